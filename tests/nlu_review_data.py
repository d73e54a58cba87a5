"""A stored chat with messages the bot understood well, badly and not at all (for the tests of
the improvement loop), saved with Rasa's own tracker store."""

from __future__ import annotations

from tests.web.staff_support import T0

WELL = T0 + 1  # "where is my order ...", order_status 93%
UNSURE = T0 + 5  # "my parcel never came ...", complaint 41%
FALLBACK = T0 + 9  # "hm the thingy with the box", nlu_fallback
BUTTON = T0 + 13  # "/affirm"
SURVEY_ANSWER = T0 + 20  # "3", an answer to the survey's question


def _ranking(*pairs: tuple[str, float]) -> list[dict]:  # type: ignore[type-arg]
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def review_chat_events(t0: float = T0) -> list:  # type: ignore[type-arg]
    from rasa.shared.core.events import (
        ActionExecuted,
        ActiveLoop,
        BotUttered,
        SessionStarted,
        UserUttered,
    )

    def user(text: str, stamp: float, *ranking: tuple[str, float]) -> UserUttered:
        intent = {"name": ranking[0][0], "confidence": ranking[0][1]}
        return UserUttered(
            text,
            intent=intent,
            parse_data={"intent_ranking": _ranking(*ranking)},
            timestamp=stamp,
            input_channel="socketio",
        )

    return [
        ActionExecuted("action_session_start", timestamp=t0),
        SessionStarted(timestamp=t0 + 0.001),
        ActionExecuted("action_listen", timestamp=t0 + 0.002),
        user(
            "where is my order 104233? my email is jane.doe@example.com",
            t0 + 1,
            ("order_status", 0.93),
            ("shipping_info", 0.04),
        ),
        BotUttered("Your order 104233 was shipped.", timestamp=t0 + 1.3),
        ActionExecuted("action_listen", timestamp=t0 + 1.4),
        user(
            "my parcel never came, call me on 0170 1234567",
            t0 + 5,
            ("complaint", 0.41),
            ("shipping_info", 0.33),
            ("order_status", 0.2),
        ),
        BotUttered("I'm sorry to hear that.", timestamp=t0 + 5.3),
        ActionExecuted("action_listen", timestamp=t0 + 5.4),
        user(
            "hm the thingy with the box",
            t0 + 9,
            ("nlu_fallback", 0.3),
            ("product_info", 0.22),
            ("greet", 0.1),
        ),
        BotUttered("Sorry, I didn't get that.", timestamp=t0 + 9.3),
        ActionExecuted("action_listen", timestamp=t0 + 9.4),
        user("/affirm", t0 + 13, ("affirm", 0.2)),
        ActionExecuted("survey_form", timestamp=t0 + 14),
        ActiveLoop("survey_form", timestamp=t0 + 14.1),
        BotUttered("How satisfied were you, from 1 to 5?", timestamp=t0 + 14.2),
        ActionExecuted("action_listen", timestamp=t0 + 14.3),
        user("3", t0 + 20, ("nlu_fallback", 0.3), ("affirm", 0.1)),
        ActiveLoop(None, timestamp=t0 + 21),
        ActionExecuted("action_listen", timestamp=t0 + 21.1),
    ]
