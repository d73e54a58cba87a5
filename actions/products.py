"""Questions about products in the catalog."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.base import SupportAction, offer, picked_choice
from bot.storage.models import Product
from bot.storage.repositories import RecommendationRepository
from bot.storage.session import session_scope
from bot.support.products import describe_product_line

logger = logging.getLogger(__name__)


class ActionProductInfo(SupportAction):
    def name(self) -> str:
        return "action_product_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Look the product up in the catalog, even from a partial name with typos."""
        services = self.services
        # This message's product, or its whole text: a product slot from earlier turns must
        # not answer a new question.
        entities = [
            str(e.get("value"))
            for e in tracker.latest_message.get("entities", [])
            if e.get("entity") == "product"
        ]
        picked = picked_choice(tracker)  # "the first one" after product buttons
        if not entities and picked and picked[0] == "product_info" and picked[1].get("product"):
            entities = [str(picked[1]["product"])]
        query = entities[0] if entities else tracker.latest_message.get("text") or ""
        match, candidates = services.product_matcher().best(
            query, services.settings.product_match_threshold
        )
        if match is None and not candidates:
            dispatcher.utter_message(
                text="I couldn't find that product in our catalog. Could you tell me its name, "
                'for example "Zen Yoga Mat" or "Pulse Wireless Earbuds"?'
            )
            return [SlotSet("product", None)]
        if match is None:
            buttons = [
                {"title": c.group, "payload": "/product_info" + json.dumps({"product": c.group})}
                for c in candidates
            ]
            dispatcher.utter_message(text="Which one do you mean?", buttons=buttons)
            return [SlotSet("product", None), offer(buttons)]
        with session_scope(services.session_factory) as session:
            products = [session.get(Product, key) for key in match.keys]
            message = describe_product_line(match.group, [p for p in products if p is not None])
        dispatcher.utter_message(text=message)
        # Asking about a product the bot suggested in this chat counts as picking it.
        try:
            with session_scope(services.session_factory) as session:
                RecommendationRepository(session).picked(
                    tracker.sender_id, list(match.keys), services.now()
                )
        except SQLAlchemyError:
            logger.exception("Could not record the pick of %s", match.group)
        return [SlotSet("product", match.group)]
