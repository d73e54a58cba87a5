"""App-database rows with known values, for the tests of the metrics, the report and the web.

One survey answer or one conversation summary per call, each with its own conversation id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from bot.storage.models import Conversation, SurveyResponse

_ids = count(1)


def survey_row(
    at: datetime,
    nps: int | None,
    csat: int | None,
    topic: str = "order_status",
    status: str | None = None,
    channel: str = "socketio",
    variant: str | None = None,
    comment: str | None = None,
) -> SurveyResponse:
    """A survey answered at `at`; declined when it has no score (unless `status` says)."""
    answered = nps is not None or csat is not None
    return SurveyResponse(
        conversation_id=f"s{next(_ids)}",
        session_key="1",
        nps=nps,
        csat=csat,
        comment=comment,
        status=status or ("completed" if answered else "declined"),
        channel=channel,
        topic=topic,
        variant=variant,
        created_at=at,
        updated_at=at,
    )


def conversation_row(
    at: datetime,
    topic: str = "order_status",
    handed_off: bool = False,
    first_response: float | None = 1.0,
    replies: tuple[float, ...] = (1.0,),
    fallbacks: int = 0,
    user_messages: int = 3,
    variant: str | None = None,
) -> Conversation:
    """A chat session started at `at`, answered in `replies` seconds (one per reply)."""
    return Conversation(
        conversation_id=f"c{next(_ids)}",
        session_key="1",
        channel="socketio",
        topic=topic,
        variant=variant,
        started_at=at,
        last_event_at=at + timedelta(minutes=5),
        user_messages=user_messages,
        bot_messages=user_messages + 1,
        fallbacks=fallbacks,
        first_response_seconds=first_response,
        response_seconds_total=sum(replies),
        responses=len(replies),
        handed_off=handed_off,
        handoff_seconds=60.0 if handed_off else None,
        survey_asked=True,
    )
