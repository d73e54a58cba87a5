"""The delivery address typed in the address change is masked wherever staff read the chat."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)

from bot.transcripts.masking import ADDRESS_MASK, PROOF_MASK, ContextMasks, mask_events
from bot.transcripts.summaries import summarize_conversation
from bot.transcripts.transcript import build_transcript
from tests.conversation_trackers import conversation_test_trackers, project_domain

ADDRESS = "Lindenallee 5, 50667 Köln"
T0 = 1_793_000_000.0


def _user(text: str, intent: str = "change_address", **kwargs: Any) -> UserUttered:
    return UserUttered(text, intent={"name": intent, "confidence": 0.9}, **kwargs)


def _bot(text: str, utterance: str | None = None) -> BotUttered:
    return BotUttered(text, metadata={"utter_action": utterance} if utterance else {})


def address_change(address: str = ADDRESS) -> list[Event]:
    """The address change as Rasa stores it: the form asks, the customer answers, the bot
    confirms."""
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        _user("I need to change the delivery address"),
        ActionExecuted("action_start_order_task"),
        SlotSet("order_topic", "address"),
        SlotSet("new_address", None),
        ActionExecuted("order_form"),
        ActiveLoop("order_form"),
        SlotSet("requested_slot", "order_id"),
        _bot("What's your order number?", "utter_ask_order_id"),
        ActionExecuted("action_listen"),
        _user("104233", "order_status"),
        ActionExecuted("order_form"),
        SlotSet("order_id", "104233"),
        SlotSet("requested_slot", "new_address"),
        _bot("What's the new delivery address?", "utter_ask_new_address"),
        ActionExecuted("action_listen"),
        _user(
            address,
            entities=[{"entity": "product", "value": address.split(",")[0], "start": 0, "end": 13}],
        ),
        SlotSet("new_address", address),
        ActionExecuted("order_form"),
        SlotSet("new_address", address),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        ActionExecuted("action_order_submit"),
        _bot(f"Done — order 104233 will now be delivered to: {address}"),
        SlotSet("new_address", None),
        _bot("Is there anything else I can help you with?", "utter_anything_else"),
        ActionExecuted("action_listen"),
    ]


def _dicts(events: list[Event]) -> list[dict[str, Any]]:
    return [
        {**event.as_dict(), "timestamp": T0 + n} for n, event in enumerate(events)
    ]  # in order, as stored


def _texts(events: list[dict[str, Any]], kind: str) -> list[str]:
    return [e["text"] for e in events if e["event"] == kind]


def test_the_answer_the_slot_and_the_confirmation_are_masked() -> None:
    masked = mask_events(_dicts(address_change()))
    users = _texts(masked, "user")
    assert users == ["I need to change the delivery address", "104233", ADDRESS_MASK]
    assert f"Done — order 104233 will now be delivered to: {ADDRESS_MASK}" in _texts(masked, "bot")
    answer = next(e for e in masked if e["event"] == "user" and e["text"] == ADDRESS_MASK)
    assert answer["parse_data"]["text"] == ADDRESS_MASK
    assert [e["value"] for e in answer["parse_data"]["entities"]] == [ADDRESS_MASK]
    slots = [e["value"] for e in masked if e["event"] == "slot" and e["name"] == "new_address"]
    assert slots == [None, ADDRESS_MASK, ADDRESS_MASK, None]
    assert "Lindenallee" not in json.dumps(masked, ensure_ascii=False)
    assert "104233" in json.dumps(masked)  # the order number is no personal data


def test_the_address_repeated_later_is_masked_too() -> None:
    events = address_change() + [
        _user("so it goes to lindenallee 5,  50667 KÖLN? mail me at anna@example.com", "affirm"),
        _user("and is Lindenallee a nice street?", "out_of_scope"),
    ]
    users = _texts(mask_events(_dicts(events)), "user")
    assert users[-2:] == [
        f"so it goes to {ADDRESS_MASK}? mail me at [email]",
        "and is Lindenallee a nice street?",  # a part of it alone is no address
    ]


def test_an_address_typed_before_the_question_is_masked_once_it_is_given() -> None:
    events = address_change()
    events.insert(3, _user(f"please send order 104233 to {ADDRESS}"))
    assert _texts(mask_events(_dicts(events)), "user")[0] == (
        f"please send order 104233 to {ADDRESS_MASK}"
    )


def test_a_message_outside_the_question_is_only_redacted() -> None:
    events = address_change() + [
        _user("what are your opening hours, 0170 1234567?", "out_of_scope")
    ]
    assert _texts(mask_events(_dicts(events)), "user")[-1] == (
        "what are your opening hours, [phone]?"
    )


def test_a_second_try_after_a_rejected_answer_is_masked() -> None:
    """The validation asks again (no utterance named); `requested_slot` still names it."""
    events = address_change()
    answer = next(
        i for i, e in enumerate(events) if isinstance(e, UserUttered) and e.text == ADDRESS
    )
    events[answer:answer] = [
        _user("Hauptstr. 1", "out_of_scope"),
        SlotSet("new_address", None),
        _bot("That doesn't look like a full address. Please try again."),
        ActionExecuted("action_listen"),
    ]
    users = _texts(mask_events(_dicts(events)), "user")
    assert users[-2:] == [ADDRESS_MASK, ADDRESS_MASK]


def test_a_button_pressed_instead_of_an_answer_is_left_alone() -> None:
    events = address_change()
    answer = next(
        i for i, e in enumerate(events) if isinstance(e, UserUttered) and e.text == ADDRESS
    )
    events.insert(answer, _user("/deny", "deny"))
    assert "/deny" in _texts(mask_events(_dicts(events)), "user")


def test_a_restart_ends_the_question() -> None:
    events = address_change()[:18] + [Restarted(), _user("Bahnhofstr. 9, 10115 Berlin")]
    assert _texts(mask_events(_dicts(events)), "user")[-1] == "Bahnhofstr. 9, 10115 Berlin"


def test_a_message_taken_back_leaves_the_question_asked() -> None:
    events = address_change()[:18] + [
        _user("Bahnhofstr. 9, 10115 Berlin"),
        UserUtteranceReverted(),
        _user("Bahnhofstr. 10, 10115 Berlin"),
    ]
    users = _texts(mask_events(_dicts(events)), "user")
    assert users[-2:] == [ADDRESS_MASK, ADDRESS_MASK]


def test_the_answer_to_the_ownership_question_is_masked() -> None:
    events = address_change()[:16] + [
        SlotSet("requested_slot", "order_proof"),
        _bot("What's the email address you ordered 104233 with — or the postcode?"),
        ActionExecuted("action_listen"),
        _user("50667", "inform"),
    ]
    assert _texts(mask_events(_dicts(events)), "user")[-1] == PROOF_MASK


def test_the_staff_transcript_shows_the_masks_unless_revealed() -> None:
    events = _dicts(address_change())
    masked = [line.text for s in build_transcript(events) for line in s.lines]
    assert ADDRESS_MASK in masked and not any("Lindenallee" in text for text in masked)
    revealed = [line.text for s in build_transcript(events, reveal=True) for line in s.lines]
    assert ADDRESS in revealed


def test_the_staff_search_text_has_no_address() -> None:
    (summary,) = summarize_conversation("c1", _dicts(address_change()))
    assert summary.search_text == (f"i need to change the delivery address\n104233\n{ADDRESS_MASK}")


def test_masks_are_known_by_event_not_by_equal_text() -> None:
    events = _dicts(address_change() + [_user(ADDRESS.replace("5", "7"), "affirm")])
    masks = ContextMasks(events)
    assert masks.text(events[-1]) == ADDRESS.replace("5", "7")


@pytest.fixture(scope="module")
def rasa_address_stories() -> list[list[dict[str, Any]]]:
    """The conversation tests that change an address, as Rasa builds their trackers."""
    stories = []
    for tracker in conversation_test_trackers(project_domain()):
        events = [event.as_dict() for event in tracker.events]
        if any(e.get("name") == "new_address" and e.get("value") for e in events):
            stories.append(events)
    return stories


def test_no_address_of_the_conversation_tests_survives(
    rasa_address_stories: list[list[dict[str, Any]]],
) -> None:
    assert rasa_address_stories
    for events in rasa_address_stories:
        given = {e["value"] for e in events if e.get("name") == "new_address" and e.get("value")}
        masked = json.dumps(mask_events(events), ensure_ascii=False)
        for address in given:
            assert json.dumps(address, ensure_ascii=False) not in masked, address
