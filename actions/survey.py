"""The end-of-chat survey: NPS (0-10), CSAT (1-5) and an optional comment, kept without loss."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.base import YES_NO, ServicesMixin, SupportAction, latest_intent, requester_of
from bot.bootstrap import Services
from bot.nlu.cut_messages import INTENT_NAME as CUT_MESSAGE
from bot.storage.repositories import CustomerRepository, SurveyRepository, TicketRepository
from bot.storage.session import session_scope
from bot.support import order_service
from bot.support.digressions import digresses_from_comment, is_digression
from bot.survey.parsing import AnswerKind, is_decline, parse_csat, parse_nps
from bot.survey.records import (
    MAX_COMMENT_LENGTH,
    SurveySnapshot,
    clean_comment,
    current_session,
    needs_follow_up,
    snapshot_of_session,
)
from bot.survey.wording import CONTROL_WORDING, SURVEY_WORDING, nps_buttons, nps_question

logger = logging.getLogger(__name__)

QUESTIONS = ("nps_score", "csat_score", "survey_comment")
# Messages that leave the survey for something else: the form lets the rules handle them.
ESCAPE_INTENTS = frozenset({"request_human", "complaint", CUT_MESSAGE})
SKIP_WORDS = frozenset(
    {
        "no",
        "nothing",
        "none",
        "nope",
        "n/a",
        "na",
        "all good",
        "no comment",
        "skip",
        "nothing else",
        "no thanks",
        "nah",
    }
)


def snapshot_from_tracker(tracker: Tracker, services: Services) -> SurveySnapshot:
    """The survey of the current session, from the events the tracker carries."""
    snapshot = snapshot_of_session(tracker.sender_id, current_session(tracker.events))
    # Filed under a customer only when this message is theirs (signed, or a proven order).
    customer = order_service.conversation_customer(
        requester_of(services, tracker), services.session_factory
    )
    return replace(snapshot, customer_id=customer)


def store_survey(services: Services, snapshot: SurveySnapshot) -> int | None:
    """Upsert the survey row; on a database failure log it and go on (the slots keep it)."""
    try:
        with session_scope(services.session_factory) as session:
            customer_id = CustomerRepository(session).resolve(snapshot.customer_id)
            row, _ = SurveyRepository(session).upsert(snapshot, services.now(), customer_id)
            session.flush()
            return int(row.id)
    except SQLAlchemyError:
        logger.exception(
            "Could not store the survey of %s; `supportbot backfill-surveys` "
            "will rebuild it from the tracker store.",
            snapshot.conversation_id,
        )
        return None


class ActionStartSurvey(SupportAction):
    def name(self) -> str:
        return "action_start_survey"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Start the end-of-chat survey, once per conversation session."""
        return [
            SlotSet("survey_asked", True),
            SlotSet("survey_failures", 0.0),
            SlotSet("survey_skipped", []),
            SlotSet("nps_score", None),
            SlotSet("csat_score", None),
            SlotSet("survey_comment", None),
            SlotSet("survey_status", None),
        ]


class ActionAskNpsScore(SupportAction):
    def name(self) -> str:
        return "action_ask_nps_score"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask how likely the customer is to recommend us, in their variant's words."""
        # The form asks (and re-asks) through this action only: the wording is what the
        # variants change, so this is where the conversation is exposed.
        variant = self.exposed(tracker, SURVEY_WORDING, CONTROL_WORDING)
        dispatcher.utter_message(text=nps_question(variant), buttons=nps_buttons())
        return []


class ValidateSurveyForm(ServicesMixin, FormValidationAction):
    def name(self) -> str:
        return "validate_survey_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The questions not answered, skipped or declined yet."""
        if tracker.slots.get("survey_status") == "declined":
            return []
        skipped = set(tracker.slots.get("survey_skipped") or [])
        return [q for q in QUESTIONS if q not in skipped]

    def _asked(self, tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    def _answer(self, tracker: Tracker) -> str:
        return str(tracker.latest_message.get("text") or "")

    def _failed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, hint: str
    ) -> dict[str, Any]:
        failures = int(tracker.get_slot("survey_failures") or 0) + 1
        if failures >= self.services.settings.max_survey_failures:
            skipped = [*(tracker.get_slot("survey_skipped") or []), slot]
            dispatcher.utter_message(text="No problem, let's skip that one.")
            return {"survey_skipped": skipped, "survey_failures": 0.0}
        dispatcher.utter_message(text=hint)
        return {"survey_failures": float(failures)}

    def _typed_answer(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        """Hand what was typed to `validate_<slot>`, unless it asks for something else.

        Only values returned by `validate_` methods may set other slots (rasa-sdk drops the
        rest), so extraction passes the raw text on and validation decides.
        """
        if not self._asked(tracker, slot):
            return {}
        text = self._answer(tracker)
        answer = (parse_nps if slot == "nps_score" else parse_csat)(text)
        intent = latest_intent(tracker)
        if not answer.is_score and (intent in ESCAPE_INTENTS or is_digression(intent, survey=True)):
            return {}  # the rules answer it; the form then asks again, nothing counted
        return {slot: text}

    def _validate_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str
    ) -> dict[str, Any]:
        if value is None:  # cleared when the survey started, not answered: nothing to check
            return {}
        low, high = (0, 10) if slot == "nps_score" else (1, 5)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)
        answer = (parse_nps if slot == "nps_score" else parse_csat)(value)
        if answer.kind is AnswerKind.SCORE:
            # Stored as soon as it is given: a customer may close the chat before the end.
            snapshot = snapshot_from_tracker(tracker, self.services)
            if slot == "nps_score":
                snapshot = replace(snapshot, nps=answer.value)
            else:
                snapshot = replace(snapshot, csat=answer.value)
            store_survey(self.services, snapshot)
            return {slot: float(answer.value or 0), "survey_failures": 0.0}
        if answer.kind is AnswerKind.DECLINED:
            return {slot: None, "survey_status": "declined"}
        return {
            slot: None,
            **self._failed(
                dispatcher,
                tracker,
                slot,
                f"Sorry, I couldn't use that: {answer.problem}. Please answer with one whole "
                f'number from {low} to {high} — or say "skip".',
            ),
        }

    async def extract_nps_score(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Pass on the answer to "how likely are you to recommend us" (0 to 10)."""
        return self._typed_answer(tracker, "nps_score")

    async def validate_nps_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a score from 0 to 10; re-ask, skip or stop on anything else."""
        return self._validate_score(value, dispatcher, tracker, "nps_score")

    async def extract_csat_score(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Pass on the answer to "how satisfied are you with this conversation" (1 to 5)."""
        return self._typed_answer(tracker, "csat_score")

    async def validate_csat_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a score from 1 to 5; re-ask, skip or stop on anything else."""
        return self._validate_score(value, dispatcher, tracker, "csat_score")

    async def extract_survey_comment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Pass on the optional comment, whatever it says; a question is answered instead."""
        if not self._asked(tracker, "survey_comment") or latest_intent(tracker) == CUT_MESSAGE:
            return {}
        if digresses_from_comment(latest_intent(tracker), self._answer(tracker)):
            return {}
        return {"survey_comment": self._answer(tracker)}

    async def validate_survey_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep the comment; "skip" or "nothing" leaves it empty."""
        if value is None:
            return {}
        text = " ".join(str(value or "").split())
        if text.lower().strip(" .!") in SKIP_WORDS or is_decline(text):
            skipped = [*(tracker.get_slot("survey_skipped") or []), "survey_comment"]
            return {"survey_comment": None, "survey_skipped": skipped}
        if not text:
            return {
                "survey_comment": None,
                **self._failed(
                    dispatcher,
                    tracker,
                    "survey_comment",
                    'I didn\'t get a comment. Type it here, or say "skip".',
                ),
            }
        if len(text) > MAX_COMMENT_LENGTH:
            return {
                "survey_comment": None,
                **self._failed(
                    dispatcher,
                    tracker,
                    "survey_comment",
                    f"That's a bit long for me — could you shorten it to under "
                    f"{MAX_COMMENT_LENGTH:,} characters?",
                ),
            }
        store_survey(
            self.services,
            replace(snapshot_from_tracker(tracker, self.services), comment=clean_comment(text)),
        )
        return {"survey_comment": text}


class ActionSurveySubmit(SupportAction):
    def name(self) -> str:
        return "action_survey_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Store the answers and thank the customer; offer a person to an unhappy one."""
        snapshot = snapshot_from_tracker(tracker, self.services)
        store_survey(self.services, snapshot)
        events = [SlotSet("survey_status", snapshot.status), SlotSet("pending_question", None)]
        if snapshot.declined and not snapshot.has_answers:
            dispatcher.utter_message(
                text="No problem, I won't ask again. Thanks for chatting with us — have a great day!"
            )
            return events
        if not snapshot.has_answers:
            dispatcher.utter_message(text="Thanks for your time — have a great day!")
            return events
        settings = self.services.settings
        if needs_follow_up(
            snapshot.nps, snapshot.csat, settings.followup_nps_max, settings.followup_csat_max
        ):
            dispatcher.utter_message(
                text="Thank you for telling us, and I'm sorry we didn't do better. Would you "
                "like a person from our team to follow up with you about it?",
                buttons=YES_NO,
            )
            return [events[0], SlotSet("pending_question", "followup")]
        dispatcher.utter_message(text="Thank you for your feedback! Have a great day.")
        return events


class ActionOpenFollowup(SupportAction):
    def name(self) -> str:
        return "action_open_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Open a follow-up ticket linked to this conversation's survey."""
        services = self.services
        snapshot = snapshot_from_tracker(tracker, self.services)
        reason = f"Survey follow-up: NPS {snapshot.nps}, CSAT {snapshot.csat}"
        if snapshot.comment:
            reason += f". Comment: {snapshot.comment}"
        survey_id = store_survey(services, snapshot)
        with session_scope(services.session_factory) as session:
            ticket = TicketRepository(session).open(
                "followup",
                tracker.sender_id,
                reason,
                services.now(),
                customer_id=CustomerRepository(session).resolve(snapshot.customer_id),
                survey_response_id=survey_id,
            )
            ticket_id = str(ticket.id)
        dispatcher.utter_message(
            text=f"Thank you. I've asked our team to follow up (ticket #{ticket_id}); someone will "
            f"get back to you within {services.settings.handoff_reply_hours} hours during opening "
            f"hours ({services.settings.support_hours}). Have a good day!"
        )
        return [SlotSet("ticket_id", ticket_id), SlotSet("pending_question", None)]
