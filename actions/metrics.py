"""Managers ask for the customer-experience metrics in the chat."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import SupportAction
from bot.experiments.answers import NotAManager, answer_experiment_question
from bot.experiments.questions import parse_experiment_question
from bot.metrics.answers import answer_overview, answer_question, wants_overview
from bot.metrics.queries import Cut
from bot.metrics.questions import METRIC_LABELS, parse_metric_question
from bot.storage.session import session_scope

REFUSAL = (
    "Sorry, I can only share business metrics with the shop's managers. "
    "I'm happy to help with your orders, returns or anything else, though!"
)
# Offered when a manager asks without naming a metric.
SUGGESTED_METRICS = ("nps", "csat", "containment", "first_response_time", "survey_response_rate")


def _entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(e["value"])
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity and e.get("value")
    ]


class ActionAnswerMetric(SupportAction):
    def name(self) -> str:
        return "action_answer_metric"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Answer a manager's metric or experiment question with n and intervals; refuse
        anyone else."""
        identity = self.identity(tracker)
        if identity.role != "manager":
            dispatcher.utter_message(text=REFUSAL)
            return []
        text = tracker.latest_message.get("text") or ""
        declared = self.services.experiments()
        about_experiments = parse_experiment_question(text, declared.experiments)
        if about_experiments is not None:
            try:
                reply = await asyncio.to_thread(
                    answer_experiment_question,
                    identity,
                    about_experiments,
                    declared,
                    self.services.session_factory,
                    self.services.now(),
                    self.services.settings.min_sample_size,
                )
            except NotAManager:
                reply = REFUSAL
            dispatcher.utter_message(text=reply)
            return []
        periods = _entity_values(tracker, "period")
        question = parse_metric_question(
            text,
            today=self.services.now().date(),
            metric_entities=_entity_values(tracker, "metric"),
            period_entity=periods[0] if periods else None,
        )
        min_n = self.services.settings.min_sample_size
        if not question.metrics and not question.pain_points and wants_overview(text):
            with session_scope(self.services.session_factory) as session:
                cut = Cut(topic=question.topic)
                reply = answer_overview(session, question.period, cut, min_n)
                dispatcher.utter_message(text=reply)
            return []
        if not question.metrics and not question.pain_points:
            self.ask_which_metric(
                dispatcher, question.period.label if question.period_given else None
            )
            return []
        with session_scope(self.services.session_factory) as session:
            dispatcher.utter_message(text=answer_question(session, question, min_n))
        return []

    @staticmethod
    def ask_which_metric(dispatcher: CollectingDispatcher, period: str | None) -> None:
        entities = ', "period": "' + period.replace('"', "") + '"' if period else ""
        buttons = [
            {
                "title": METRIC_LABELS[metric],
                "payload": f'/ask_metric{{"metric": "{metric}"{entities}}}',
            }
            for metric in SUGGESTED_METRICS
        ]
        buttons.append({"title": "Where are we worst?", "payload": "where are we worst?"})
        dispatcher.utter_message(
            text="Which metric would you like? For example NPS, CSAT, containment or first "
            'response time — and you can add a period such as "last month".',
            buttons=buttons,
        )
