"""Repositories: each takes a session and never commits; `session_scope()` owns the transaction."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from bot.storage.models import (
    Alert,
    AlertNotice,
    Conversation,
    Customer,
    ExperimentExposure,
    Order,
    OrderEvent,
    OrderItem,
    OrderProofAttempt,
    Product,
    Recommendation,
    Refund,
    ReturnRequest,
    SurveyResponse,
    Ticket,
)
from bot.support.orders import OrderLine, OrderView, RefundView, ReturnView
from bot.survey.records import SurveySnapshot, survey_status
from bot.transcripts.summaries import ConversationSummary


def order_view(order: Order, returns: list[ReturnRequest], refunds: list[Refund]) -> OrderView:
    return OrderView(
        number=order.number,
        status=order.status,
        placed_at=order.placed_at,
        total=order.total,
        lines=tuple(
            OrderLine(item.product.name, item.quantity, item.product.category)
            for item in order.items
        ),
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        cancelled_at=order.cancelled_at,
        expected_delivery=order.expected_delivery,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        returns=tuple(ReturnView(r.number, r.status, r.created_at) for r in returns),
        refunds=tuple(RefundView(r.amount, r.status, r.created_at, r.issued_at) for r in refunds),
    )


# A conversation row per session: the unique key its upsert conflicts on.
_SESSION_KEY = ("conversation_id", "session_key")
_INSERT_FOR_DIALECT = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, number: str) -> Order | None:
        statement = (
            select(Order)
            .where(Order.number == number)
            .options(joinedload(Order.items).joinedload(OrderItem.product))
        )
        return self.session.execute(statement).unique().scalar_one_or_none()

    def view(self, number: str) -> OrderView | None:
        """The order with its items, returns and refunds, or None when there is no such order."""
        order = self.get(number)
        if order is None:
            return None
        returns = list(
            self.session.execute(
                select(ReturnRequest).where(ReturnRequest.order_id == order.id)
            ).scalars()
        )
        refunds = list(
            self.session.execute(select(Refund).where(Refund.order_id == order.id)).scalars()
        )
        return order_view(order, returns, refunds)

    def recent_for_customer(self, customer_id: int, limit: int = 5) -> list[OrderView]:
        """The customer's newest orders, newest first."""
        numbers = self.session.execute(
            select(Order.number)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        ).scalars()
        views = [self.view(number) for number in numbers]
        return [view for view in views if view is not None]

    def record(
        self, order: Order, kind: str, detail: str, conversation_id: str | None, now: datetime
    ) -> None:
        self.session.add(
            OrderEvent(
                order_id=order.id,
                kind=kind,
                detail=detail,
                conversation_id=conversation_id,
                created_at=now,
            )
        )

    def cancel(self, order: Order, conversation_id: str | None, now: datetime) -> None:
        order.status = "cancelled"
        order.cancelled_at = now
        self.record(order, "cancelled", "cancelled by the customer in chat", conversation_id, now)

    def change_address(
        self, order: Order, address: str, conversation_id: str | None, now: datetime
    ) -> None:
        old = order.shipping_address
        order.shipping_address = address
        self.record(order, "address_changed", f"from: {old}\nto: {address}", conversation_id, now)


class OrderProofRepository:
    """Attempts to prove an order is the visitor's: reserved first, then marked as succeeded."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def reserve(
        self, order_number: str, client: str | None, conversation_id: str, now: datetime
    ) -> OrderProofAttempt:
        attempt = OrderProofAttempt(
            order_number=order_number[:16],
            client=(client or None) and client[:64],
            conversation_id=conversation_id[:255],
            succeeded=False,
            attempted_at=now,
        )
        self.session.add(attempt)
        self.session.flush()
        return attempt

    def failures_since(
        self,
        since: datetime,
        *,
        order_number: str | None = None,
        client: str | None = None,
        conversation_id: str | None = None,
    ) -> int:
        """Failed attempts since `since` for the one key given."""
        statement = (
            select(func.count())
            .select_from(OrderProofAttempt)
            .where(
                OrderProofAttempt.attempted_at >= since,
                OrderProofAttempt.succeeded.is_(False),
            )
        )
        if order_number is not None:
            statement = statement.where(OrderProofAttempt.order_number == order_number[:16])
        elif client is not None:
            statement = statement.where(OrderProofAttempt.client == client[:64])
        elif conversation_id is not None:
            statement = statement.where(OrderProofAttempt.conversation_id == conversation_id[:255])
        else:
            raise ValueError("give one of order_number, client, conversation_id")
        return int(self.session.execute(statement).scalar_one())


class ReturnRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(
        self, order: Order, reason: str, conversation_id: str | None, now: datetime
    ) -> ReturnRequest:
        """Open a return for `order` with the next free return number."""
        highest = self.session.execute(select(func.max(ReturnRequest.id))).scalar() or 0
        request = ReturnRequest(
            number=f"R{900000 + highest + 1}",
            order_id=order.id,
            status="open",
            reason=reason,
            conversation_id=conversation_id,
            created_at=now,
        )
        self.session.add(request)
        self.session.flush()
        return request


class TicketRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(
        self,
        kind: str,
        conversation_id: str,
        reason: str,
        now: datetime,
        customer_id: int | None = None,
        order_number: str | None = None,
        survey_response_id: int | None = None,
    ) -> Ticket:
        """Open a ticket, or return the conversation's open ticket of that kind (no duplicates)."""
        existing = (
            self.session.execute(
                select(Ticket).where(
                    Ticket.conversation_id == conversation_id,
                    Ticket.kind == kind,
                    Ticket.status != "resolved",
                )
            )
            .scalars()
            .first()
        )
        if existing is not None:
            return existing
        order_id = None
        if order_number:
            order_id = self.session.execute(
                select(Order.id).where(Order.number == order_number)
            ).scalar_one_or_none()
        ticket = Ticket(
            kind=kind,
            status="open",
            conversation_id=conversation_id,
            customer_id=customer_id,
            order_id=order_id,
            reason=reason,
            created_at=now,
            survey_response_id=survey_response_id,
        )
        self.session.add(ticket)
        self.session.flush()
        return ticket

    def open_count(self) -> int:
        return self.session.execute(
            select(func.count()).select_from(Ticket).where(Ticket.status != "resolved")
        ).scalar_one()


class ProductRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[Product]:
        return list(self.session.execute(select(Product).order_by(Product.id)).scalars())


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def resolve(self, customer_id: int | None) -> int | None:
        """The customer id when that customer exists (a typed email address is never one)."""
        if customer_id is not None and self.session.get(Customer, customer_id) is not None:
            return int(customer_id)
        return None

    def by_email(self, email: str) -> Customer | None:
        return self.session.execute(
            select(Customer).where(func.lower(Customer.email) == email.lower())
        ).scalar_one_or_none()


class SurveyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, conversation_id: str, session_key: str) -> SurveyResponse | None:
        return self.session.execute(
            select(SurveyResponse).where(
                SurveyResponse.conversation_id == conversation_id,
                SurveyResponse.session_key == session_key,
            )
        ).scalar_one_or_none()

    def upsert(
        self, snapshot: SurveySnapshot, now: datetime, customer_id: int | None = None
    ) -> tuple[SurveyResponse, bool]:
        """Write the session's survey: one row per session, answers never erased by a replay.

        Returns the row and whether it was created.
        """
        row = self.get(snapshot.conversation_id, snapshot.session_key)
        if row is None:
            row = SurveyResponse(
                conversation_id=snapshot.conversation_id,
                session_key=snapshot.session_key,
                created_at=now,
            )
            try:
                with self.session.begin_nested():
                    self._fill(row, snapshot, now, customer_id)
                    self.session.add(row)
                return row, True
            except IntegrityError:  # written by a concurrent replay: update that row instead
                row = self.get(snapshot.conversation_id, snapshot.session_key)
                assert row is not None
        self._fill(row, snapshot, now, customer_id)
        return row, False

    @staticmethod
    def _fill(
        row: SurveyResponse, snapshot: SurveySnapshot, now: datetime, customer_id: int | None
    ) -> None:
        row.nps = snapshot.nps if snapshot.nps is not None else row.nps
        row.csat = snapshot.csat if snapshot.csat is not None else row.csat
        row.comment = snapshot.comment if snapshot.comment is not None else row.comment
        row.status = survey_status(row.nps, row.csat, row.comment)
        row.channel = snapshot.channel or row.channel or "unknown"
        row.topic = snapshot.topic or row.topic or "other"
        row.human_involved = bool(snapshot.human_involved or row.human_involved)
        row.started_at = row.started_at or snapshot.started_at
        row.customer_id = row.customer_id or customer_id
        row.updated_at = now


class RecommendationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def shown(
        self,
        conversation_id: str,
        customer_id: int | None,
        product_ids: list[int],
        kinds: list[str],
        reasons: list[str],
        model: str,
        now: datetime,
    ) -> None:
        """Record the suggestions shown, in the order shown."""
        for rank, (product_id, kind, reason) in enumerate(
            zip(product_ids, kinds, reasons, strict=True), start=1
        ):
            self.session.add(
                Recommendation(
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    product_id=product_id,
                    kind=kind,
                    reason=reason,
                    model=model,
                    rank=rank,
                    shown_at=now,
                )
            )

    def picked(self, conversation_id: str, product_ids: list[int], now: datetime) -> int:
        """Mark suggestions of this conversation among `product_ids` as picked; how many."""
        rows = (
            self.session.execute(
                select(Recommendation).where(
                    Recommendation.conversation_id == conversation_id,
                    Recommendation.product_id.in_(product_ids),
                    Recommendation.picked_at.is_(None),
                )
            )
            .scalars()
            .all()
        )
        for row in rows:
            row.picked_at = now
        return len(rows)

    def acceptance(self) -> tuple[int, int]:
        """(picked, shown) over all suggestions."""
        shown = self.session.execute(select(func.count()).select_from(Recommendation)).scalar_one()
        picked = self.session.execute(
            select(func.count())
            .select_from(Recommendation)
            .where(Recommendation.picked_at.is_not(None))
        ).scalar_one()
        return int(picked), int(shown)


@functools.cache
def _summary_upsert(dialect: str) -> Any:
    """The summary upsert for a dialect, built once; the summary's fields are its parameters."""
    if dialect not in _INSERT_FOR_DIALECT:
        raise NotImplementedError(
            f"conversation summaries need SQLite or PostgreSQL, not {dialect}"
        )
    table = Conversation.__table__
    names = [field.name for field in dataclasses.fields(ConversationSummary)]
    statement = _INSERT_FOR_DIALECT[dialect](table).values({n: bindparam(n) for n in names})
    new = statement.excluded
    kept = {
        "customer_id": func.coalesce(new.customer_id, table.c.customer_id),
        "variant": func.coalesce(func.nullif(new.variant, ""), table.c.variant),
    }
    updates = {name: kept.get(name, new[name]) for name in names if name not in _SESSION_KEY}
    return statement.on_conflict_do_update(
        index_elements=list(_SESSION_KEY),
        set_=updates,
        # a summary of an earlier moment of the session never replaces a later one
        where=table.c.last_event_at <= new.last_event_at,
    )


class ConversationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, conversation_id: str, session_key: str) -> Conversation | None:
        return self.session.execute(
            select(Conversation).where(
                Conversation.conversation_id == conversation_id,
                Conversation.session_key == session_key,
            )
        ).scalar_one_or_none()

    def upsert(self, summary: ConversationSummary) -> None:
        """Write a session's summary; a later summary of the same session replaces it."""
        self.upsert_many([summary])

    def upsert_many(self, summaries: Sequence[ConversationSummary]) -> None:
        """Write sessions' summaries, each replacing the summary of its session up to an
        earlier or the same moment (`last_event_at`), never one of a later moment.

        One INSERT ... ON CONFLICT DO UPDATE for all of them (SQLite and PostgreSQL): the
        tracker store writes the summaries of every chat that changed in the last second, and
        two writers of one session cannot both insert. The customer and the variant are never
        erased by a summary that does not know them.
        """
        if not summaries:
            return
        dialect = self.session.get_bind().dialect.name
        self.session.execute(
            _summary_upsert(dialect), [dataclasses.asdict(summary) for summary in summaries]
        )


class ExposureRepository:
    """Experiment exposures: one row per experiment and conversation session, never twice."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        experiment: str,
        variant: str,
        unit: str,
        conversation_id: str,
        session_key: str,
        now: datetime,
    ) -> bool:
        """Store the exposure unless the session has one already; whether it was new."""
        dialect = self.session.get_bind().dialect.name
        insert = _INSERT_FOR_DIALECT.get(dialect)
        if insert is None:
            raise NotImplementedError(
                f"exposures are written on SQLite and PostgreSQL, not {dialect}"
            )
        statement = (
            insert(ExperimentExposure)
            .values(
                experiment=experiment,
                variant=variant,
                unit=unit[:300],
                conversation_id=conversation_id[:255],
                session_key=session_key,
                exposed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["experiment", "conversation_id", "session_key"])
        )
        return bool(self.session.execute(statement).rowcount)

    def variant_of(self, experiment: str, conversation_id: str, session_key: str) -> str | None:
        """The variant the conversation session was exposed to, if it was."""
        return self.session.execute(
            select(ExperimentExposure.variant).where(
                ExperimentExposure.experiment == experiment,
                ExperimentExposure.conversation_id == conversation_id[:255],
                ExperimentExposure.session_key == session_key,
            )
        ).scalar_one_or_none()

    def counts(self, experiment: str, until: datetime | None = None) -> dict[str, int]:
        """Exposed sessions per variant (those exposed before `until`, when given)."""
        query = select(ExperimentExposure.variant, func.count()).where(
            ExperimentExposure.experiment == experiment
        )
        if until is not None:
            query = query.where(ExperimentExposure.exposed_at < until)
        rows = self.session.execute(query.group_by(ExperimentExposure.variant)).all()
        return {variant: int(count) for variant, count in rows}

    def span(self, experiment: str) -> tuple[datetime | None, datetime | None]:
        """The first and the last exposure's time (None, None without exposures)."""
        first, last = self.session.execute(
            select(
                func.min(ExperimentExposure.exposed_at), func.max(ExperimentExposure.exposed_at)
            ).where(ExperimentExposure.experiment == experiment)
        ).one()
        return first, last


class AlertRepository:
    """Monitoring alerts: at most one open per condition (its key), and who was told of them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def open_alerts(self) -> list[Alert]:
        """The open alerts, newest first."""
        query = (
            select(Alert)
            .where(Alert.resolved_at.is_(None))
            .order_by(Alert.raised_at.desc(), Alert.id.desc())
        )
        return list(self.session.execute(query).scalars())

    def raise_or_update(self, key: str, now: datetime, **fields: Any) -> tuple[Alert, bool]:
        """The open alert of `key` with the latest numbers, raised now when there was none;
        whether it is new."""
        alert = self.session.execute(
            select(Alert).where(Alert.key == key, Alert.resolved_at.is_(None))
        ).scalar_one_or_none()
        new = alert is None
        if alert is None:
            alert = Alert(key=key, raised_at=now)
            self.session.add(alert)
        for name, value in fields.items():
            setattr(alert, name, value)
        alert.checked_at = now
        self.session.flush()
        return alert, new

    def resolve(self, alert: Alert, now: datetime) -> None:
        alert.resolved_at = now
        alert.checked_at = now

    def untold(self, manager: str) -> list[Alert]:
        """The open alerts `manager` has not been told of, oldest first."""
        told = select(AlertNotice.alert_id).where(AlertNotice.manager == manager)
        query = (
            select(Alert)
            .where(Alert.resolved_at.is_(None), Alert.id.not_in(told))
            .order_by(Alert.raised_at, Alert.id)
        )
        return list(self.session.execute(query).scalars())

    def mark_told(self, manager: str, alerts: Sequence[Alert], now: datetime) -> None:
        for alert in alerts:
            self.session.add(AlertNotice(alert_id=alert.id, manager=manager, told_at=now))
        self.session.flush()
