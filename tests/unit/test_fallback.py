from bot.support.fallback import consecutive_misunderstandings


def user(intent: str) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def test_counts_only_the_latest_run_of_misunderstood_messages():
    assert consecutive_misunderstandings([]) == 0
    assert consecutive_misunderstandings([user("greet")]) == 1
    assert consecutive_misunderstandings([user("nlu_fallback"), user("out_of_scope")]) == 2
    events = [user("nlu_fallback"), user("greet"), {"event": "bot"}, user("nlu_fallback")]
    assert consecutive_misunderstandings(events) == 1
