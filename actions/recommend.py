"""Product suggestions: personal for known customers, best sellers by category otherwise."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.base import SupportAction, offer, picked_choice
from bot.recommender.experiment import CONTROL_MODEL, RECOMMENDER_MODEL, planned_variant
from bot.recommender.shop import (
    ShopRecommender,
    Suggestion,
    in_stock_product_ids,
    purchased_product_ids,
)
from bot.storage.models import Product
from bot.storage.repositories import CustomerRepository, RecommendationRepository
from bot.storage.session import session_scope
from bot.support import order_service
from bot.support.categories import find_category
from bot.support.products import line_of

logger = logging.getLogger(__name__)

HOW_MANY = 4


def products_by_id(session: Session, ids: Iterable[int]) -> dict[int, Product]:
    query = select(Product).where(Product.id.in_(list(ids)))
    return {p.id: p for p in session.execute(query).scalars()}


def product_card(product: Product, suggestion: Suggestion) -> dict[str, Any]:
    line = line_of(product.name)
    return {
        "id": product.id,
        "name": product.name,
        "price": f"{product.price:.2f}",
        "currency": "EUR",
        "category": product.category,
        "reason": suggestion.reason,
        "url": f"/products/{product.sku}",
        "payload": "/product_info" + json.dumps({"product": line}),
    }


def one_per_line(suggestions: list[Suggestion]) -> list[Suggestion]:
    """The best variant of each product line: two colours of one jacket are one suggestion."""
    seen: set[str] = set()
    kept = []
    for suggestion in suggestions:
        line = line_of(suggestion.name)
        if line not in seen:
            seen.add(line)
            kept.append(suggestion)
    return kept


class ActionRecommendProducts(SupportAction):
    def name(self) -> str:
        return "action_recommend_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Suggest products: "more like X", personal picks, or best sellers in a category."""
        services = self.services
        recommender = services.recommender(CONTROL_MODEL)
        text = tracker.latest_message.get("text") or ""
        entities = tracker.latest_message.get("entities") or []
        picked = picked_choice(tracker)  # "sports", "the second one" after category buttons
        category = (
            str(picked[1]["category"])
            if picked and picked[0] == "ask_recommendation" and picked[1].get("category")
            else None
        )
        category = (
            category
            or next((str(e["value"]) for e in entities if e.get("entity") == "category"), None)
            or find_category(text, recommender.categories())
        )
        named = next((str(e["value"]) for e in entities if e.get("entity") == "product"), None)

        with session_scope(services.session_factory) as session:
            customer_id = CustomerRepository(session).resolve(
                order_service.conversation_customer(
                    self.requester(tracker), services.session_factory
                )
            )
            in_stock = in_stock_product_ids(session)
            like = services.product_matcher().best(named, 0.5)[0] if named else None
            if like is not None:
                suggestions = recommender.similar_to(like.keys[0], 3 * HOW_MANY, in_stock=in_stock)
                suggestions = [s for s in suggestions if not s.name.startswith(like.group)]
                intro = f"Customers who bought {like.group} also liked:"
            elif customer_id is not None:
                bought = purchased_product_ids(session, customer_id)
                recommender = self._model_for(tracker, customer_id, bought)
                # Another colour or size of something they own is not a suggestion.
                owned_lines = {line_of(p.name) for p in products_by_id(session, bought).values()}
                suggestions = [
                    s
                    for s in recommender.for_customer(
                        customer_id,
                        3 * HOW_MANY,
                        in_stock=in_stock,
                        bought=bought,
                        category=category,
                    )
                    if line_of(s.name) not in owned_lines
                ]
                intro = "Here are a few things I think you'll like:"
            elif category is not None:
                suggestions = recommender.best_sellers(category, 3 * HOW_MANY, in_stock=in_stock)
                intro = f"Our best sellers in {category}:"
            else:
                buttons = [
                    {"title": c, "payload": "/ask_recommendation" + json.dumps({"category": c})}
                    for c in recommender.categories()
                ]
                dispatcher.utter_message(
                    text="Happy to help! What are you shopping for?", buttons=buttons
                )
                return [offer(buttons)]
            suggestions = one_per_line(suggestions)[:HOW_MANY]
            if not suggestions:
                dispatcher.utter_message(
                    text="I don't have a good suggestion for that right now — sorry! You can ask "
                    "me about any product by name."
                )
                return []
            products = products_by_id(session, [s.product_id for s in suggestions])
            shown = [(products[s.product_id], s) for s in suggestions if s.product_id in products]
            cards = [product_card(product, s) for product, s in shown]
            lines = [
                f"{i}. {c['name']} — {c['price']} EUR ({c['reason']})"
                for i, c in enumerate(cards, start=1)
            ]
            self._record(
                tracker.sender_id, customer_id, [s for _, s in shown], recommender.model_name
            )
        buttons = [
            {"title": f"Tell me about {line_of(c['name'])}", "payload": c["payload"]}
            for c in cards
        ]
        dispatcher.utter_message(
            text=intro + "\n" + "\n".join(lines),
            buttons=buttons,
            json_message={"type": "product_cards", "products": cards},
        )
        return [SlotSet("product", None), offer(buttons)]

    def _model_for(
        self, tracker: Tracker, customer_id: int, bought: set[int]
    ) -> ShopRecommender:
        """The model of the conversation's `recommender-model` variant, its exposure recorded
        where it makes personal suggestions; the other model, and no exposure, where the
        variant's model is missing."""
        services = self.services
        experiment = services.experiments().get(RECOMMENDER_MODEL)
        unit_customer = self.requester(tracker).customer_id
        planned = planned_variant(experiment, unit_customer, tracker.sender_id)
        model = services.recommender(planned)
        if not model.personalises(customer_id, bought):
            return model  # best sellers: the same whatever the variant
        if model.model_name != planned:
            logger.warning(
                "No %s recommender model: %s gets %s suggestions, not exposed to %s",
                planned,
                tracker.sender_id,
                model.model_name,
                RECOMMENDER_MODEL,
            )
            return model
        self.exposed(tracker, RECOMMENDER_MODEL, CONTROL_MODEL)
        return model

    def _record(
        self,
        conversation_id: str,
        customer_id: int | None,
        suggestions: list[Suggestion],
        model: str,
    ) -> None:
        """Store what was shown; a failure must not cost the customer their answer."""
        services = self.services
        try:
            with session_scope(services.session_factory) as session:
                RecommendationRepository(session).shown(
                    conversation_id,
                    customer_id,
                    [s.product_id for s in suggestions],
                    [s.kind for s in suggestions],
                    [s.reason for s in suggestions],
                    model,
                    services.now(),
                )
        except SQLAlchemyError:
            logger.exception("Could not record the suggestions shown to %s", conversation_id)
