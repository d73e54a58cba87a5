from bot.support.fallback import consecutive_misunderstandings


def user(intent: str) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


FALLBACK = action("action_handle_fallback")


def test_counts_the_latest_run_of_messages_answered_with_the_fallback():
    assert consecutive_misunderstandings([]) == 0
    assert consecutive_misunderstandings([user("greet")]) == 1
    events = [user("nlu_fallback"), FALLBACK, action("action_listen"), user("out_of_scope")]
    assert consecutive_misunderstandings(events) == 2
    events = [user("nlu_fallback"), FALLBACK, user("greet"), action("utter_greet"), user("nlu_fallback")]
    assert consecutive_misunderstandings(events) == 1


def test_a_message_a_form_took_as_its_answer_is_not_a_misunderstanding():
    # "5" as the survey's comment is classified out_of_scope, but the survey form took it.
    events = [
        user("out_of_scope"),
        action("survey_form"),
        action("action_survey_submit"),
        action("action_listen"),
        user("nlu_fallback"),
    ]
    assert consecutive_misunderstandings(events) == 1


def test_a_message_still_waiting_for_its_answer_counts_as_the_newest():
    events = [user("out_of_scope"), FALLBACK, user("nlu_fallback"), {"event": "slot", "name": "x"}]
    assert consecutive_misunderstandings(events) == 2
