"""SQLAlchemy models of the app database. The schema changes only through Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import registry, relationship
from sqlalchemy.orm.decl_api import DeclarativeMeta

# Stable constraint names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

mapper_registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class Base(metaclass=DeclarativeMeta):
    """Declarative base, spelled out so that type checkers understand it (SQLAlchemy 1.4)."""

    __abstract__ = True
    registry = mapper_registry
    metadata = mapper_registry.metadata
    __init__ = mapper_registry.constructor


ORDER_STATUSES = ("pending", "processing", "shipped", "delivered", "cancelled", "returned")
TICKET_KINDS = ("handoff", "complaint", "followup")
TICKET_STATUSES = ("open", "assigned", "resolved")
RETURN_STATUSES = ("open", "received", "refunded", "rejected")
REFUND_STATUSES = ("pending", "issued", "failed")
SURVEY_STATUSES = ("completed", "partial", "declined")
STAFF_ROLES = ("staff", "manager")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    city = Column(String(80), nullable=False, default="")
    created_at = Column(DateTime, nullable=False)

    orders = relationship("Order", back_populates="customer")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id = Column(Integer, primary_key=True)
    sku = Column(String(32), nullable=False, unique=True)
    name = Column(String(160), nullable=False)
    category = Column(String(60), nullable=False, index=True)
    price = Column(Numeric(10, 2), nullable=False)
    description = Column(Text, nullable=False, default="")
    stock = Column(Integer, nullable=False, default=0)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_in("status", ORDER_STATUSES), name="status_known"),
        Index("ix_orders_customer_placed", "customer_id", "placed_at"),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(16), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    status = Column(String(16), nullable=False)
    placed_at = Column(DateTime, nullable=False, index=True)
    shipped_at = Column(DateTime)
    delivered_at = Column(DateTime)
    cancelled_at = Column(DateTime)
    expected_delivery = Column(Date)
    carrier = Column(String(40))
    tracking_number = Column(String(40))
    shipping_address = Column(Text, nullable=False)
    payment_method = Column(String(20), nullable=False)
    total = Column(Numeric(10, 2), nullable=False)

    customer = relationship("Customer", back_populates="orders")
    items = relationship("OrderItem", back_populates="order", order_by="OrderItem.id")


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False, index=True)
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Numeric(10, 2), nullable=False)

    order = relationship("Order", back_populates="items")
    product = relationship("Product")


class OrderEvent(Base):
    """What the assistant did to an order (cancelled it, changed its address), for the record."""

    __tablename__ = "order_events"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    kind = Column(String(32), nullable=False)
    detail = Column(Text, nullable=False, default="")
    conversation_id = Column(String(255))
    created_at = Column(DateTime, nullable=False)


class ReturnRequest(Base):
    __tablename__ = "return_requests"
    __table_args__ = (CheckConstraint(_in("status", RETURN_STATUSES), name="status_known"),)

    id = Column(Integer, primary_key=True)
    number = Column(String(16), nullable=False, unique=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    status = Column(String(16), nullable=False)
    reason = Column(Text, nullable=False, default="")
    conversation_id = Column(String(255))
    created_at = Column(DateTime, nullable=False)


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint(_in("status", REFUND_STATUSES), name="status_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    return_id = Column(Integer, ForeignKey("return_requests.id"))
    amount = Column(Numeric(10, 2), nullable=False)
    status = Column(String(16), nullable=False)
    created_at = Column(DateTime, nullable=False)
    issued_at = Column(DateTime)


class Ticket(Base):
    """A conversation handed to a person: hand-offs, complaints and survey follow-ups."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("kind", TICKET_KINDS), name="kind_known"),
        CheckConstraint(_in("status", TICKET_STATUSES), name="status_known"),
        Index("ix_tickets_status_created", "status", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)
    status = Column(String(16), nullable=False, default="open")
    conversation_id = Column(String(255), nullable=False, index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    order_id = Column(Integer, ForeignKey("orders.id"))
    reason = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False)
    assigned_to = Column(String(120))
    resolved_at = Column(DateTime)
    resolution_note = Column(Text)
    survey_response_id = Column(Integer, ForeignKey("survey_responses.id"))


class SurveyResponse(Base):
    """The end-of-chat survey of one conversation session: NPS, CSAT and a comment.

    One row per (conversation, session); the database refuses out-of-range scores.
    """

    __tablename__ = "survey_responses"
    __table_args__ = (
        CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name="nps_range"),
        CheckConstraint("csat IS NULL OR (csat >= 1 AND csat <= 5)", name="csat_range"),
        CheckConstraint(_in("status", SURVEY_STATUSES), name="status_known"),
        UniqueConstraint("conversation_id", "session_key", name="uq_survey_responses_session"),
        Index("ix_survey_responses_topic_created", "topic", "created_at"),
        # Covers the metric queries of a period (in total and by topic): they read the index alone.
        Index("ix_survey_responses_created_scores", "created_at", "nps", "csat", "status", "topic"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    # When the conversation session started (Rasa's session_started event), as text.
    session_key = Column(String(64), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"), index=True)
    nps = Column(Integer)
    csat = Column(Integer)
    comment = Column(Text)
    status = Column(String(16), nullable=False)
    channel = Column(String(40), nullable=False, default="")
    topic = Column(String(64), nullable=False, default="other")
    human_involved = Column(Boolean, nullable=False, default=False)
    # The experiment variant the conversation was assigned to, if any.
    variant = Column(String(64))
    started_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class Conversation(Base):
    """What happened in one conversation session, summarised for the metrics.

    Written as the conversation goes (by the tracker store) and rebuilt from the tracker
    store by `supportbot backfill-conversations`; the transcript itself stays there.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("conversation_id", "session_key", name="uq_conversations_session"),
        CheckConstraint("user_messages >= 0 AND bot_messages >= 0", name="counts_not_negative"),
        # (started_at, id): the staff console pages through it newest first (keyset).
        Index("ix_conversations_started", "started_at", "id"),
        Index("ix_conversations_topic_started", "topic", "started_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    session_key = Column(String(64), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"), index=True)
    channel = Column(String(40), nullable=False, default="")
    topic = Column(String(64), nullable=False, default="other")
    variant = Column(String(64))
    started_at = Column(DateTime, nullable=False)
    last_event_at = Column(DateTime, nullable=False)
    user_messages = Column(Integer, nullable=False, default=0)
    bot_messages = Column(Integer, nullable=False, default=0)
    # Customer messages the assistant did not understand (low confidence or out of scope).
    fallbacks = Column(Integer, nullable=False, default=0)
    # Seconds from the customer's first message to the assistant's first reply.
    first_response_seconds = Column(Float)
    # Sum and count of the reply times of every customer message, for exact means in SQL.
    response_seconds_total = Column(Float, nullable=False, default=0.0)
    responses = Column(Integer, nullable=False, default=0)
    handed_off = Column(Boolean, nullable=False, default=False)
    # Seconds from the customer's first message to the hand-off to a person.
    handoff_seconds = Column(Float)
    survey_asked = Column(Boolean, nullable=False, default=False)
    # What the customer wrote in the session, redacted and lower-cased, for the staff search.
    search_text = Column(Text)


class Meta(Base):
    """Key/value facts about the database itself (which demo data it holds, for instance)."""

    __tablename__ = "meta"

    key = Column(String(64), primary_key=True)
    value = Column(Text, nullable=False)


class Recommendation(Base):
    """A product the assistant suggested in a chat, and whether the customer picked it."""

    __tablename__ = "recommendations"
    __table_args__ = (
        CheckConstraint(_in("kind", ("personal", "popular", "similar")), name="kind_known"),
        Index("ix_recommendations_shown", "shown_at"),
        Index("ix_recommendations_conversation", "conversation_id", "product_id"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False)
    kind = Column(String(16), nullable=False)
    reason = Column(Text, nullable=False, default="")
    model = Column(String(80), nullable=False)
    rank = Column(Integer, nullable=False)
    shown_at = Column(DateTime, nullable=False)
    picked_at = Column(DateTime)


class User(Base):
    """A person who signs in to the website: support staff or a manager."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="role_known"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False, unique=True)
    role = Column(String(16), nullable=False)
    # argon2id, in the PHC string format (parameters and salt included).
    password_hash = Column(String(255), nullable=False)
    created_at = Column(DateTime, nullable=False)
    last_login_at = Column(DateTime)


class AuditLog(Base):
    """Who did what to whose data, from the website or the command line. Never updated."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    user_name = Column(String(120), nullable=False)
    action = Column(String(40), nullable=False)
    target = Column(String(255), nullable=False, default="")
    detail = Column(Text, nullable=False, default="")


class OrderProofAttempt(Base):
    """One attempt of an anonymous visitor to prove an order is theirs (email or postcode).

    Written before the evidence is compared (reserved), so that parallel guesses count too;
    failures limit further attempts per conversation, per order number and per client.
    """

    __tablename__ = "order_proof_attempts"
    __table_args__ = (
        Index("ix_order_proof_attempts_order", "order_number", "attempted_at"),
        Index("ix_order_proof_attempts_client", "client", "attempted_at"),
        Index("ix_order_proof_attempts_conversation", "conversation_id", "attempted_at"),
    )

    id = Column(Integer, primary_key=True)
    order_number = Column(String(16), nullable=False)
    client = Column(String(64))
    conversation_id = Column(String(255), nullable=False)
    succeeded = Column(Boolean, nullable=False, default=False)
    attempted_at = Column(DateTime, nullable=False)


class ExperimentExposure(Base):
    """A conversation session in which an experiment's variant changed what the customer saw.

    One row per experiment and session (written idempotently), so every metric of the
    session's conversation and survey rows can be cut by variant.
    """

    __tablename__ = "experiment_exposures"
    __table_args__ = (
        UniqueConstraint("experiment", "conversation_id", "session_key", name="uq_experiment_exposures_session"),
        Index("ix_experiment_exposures_experiment", "experiment", "variant", "exposed_at"),
    )

    id = Column(Integer, primary_key=True)
    experiment = Column(String(80), nullable=False)
    variant = Column(String(64), nullable=False)
    # What was randomised: "customer:<id>" or "conversation:<id>".
    unit = Column(String(300), nullable=False)
    conversation_id = Column(String(255), nullable=False)
    session_key = Column(String(64), nullable=False)
    exposed_at = Column(DateTime, nullable=False)


class ExperimentDecision(Base):
    """A manager's decision on an experiment: stop it, or ship a variant. The newest counts.

    data/experiments.yml declares the experiments; these rows record what was done with them,
    with who and why, and override the file's status.
    """

    __tablename__ = "experiment_decisions"
    __table_args__ = (
        CheckConstraint(_in("action", ("stop", "decide")), name="action_known"),
        Index("ix_experiment_decisions_experiment", "experiment", "decided_at"),
    )

    id = Column(Integer, primary_key=True)
    experiment = Column(String(80), nullable=False)
    action = Column(String(16), nullable=False)
    ship = Column(String(64))
    decided_by = Column(String(120), nullable=False)
    reason = Column(Text, nullable=False, default="")
    decided_at = Column(DateTime, nullable=False)


ALERT_KINDS = ("metric_drop", "guardrail_harmed", "srm")


class Alert(Base):
    """A condition the monitoring check found: a headline metric's significant drop, an
    experiment's harmed guardrail or its sample ratio mismatch.

    `key` names the condition; at most one alert per key is open (resolved_at NULL), so a
    repeated check updates the open one instead of raising it again. The numbers are those of
    the latest check that found it.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(_in("kind", ALERT_KINDS), name="kind_known"),
        Index(
            "uq_alerts_open_key",
            "key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_alerts_raised_at", "raised_at"),
    )

    id = Column(Integer, primary_key=True)
    key = Column(String(200), nullable=False)
    kind = Column(String(32), nullable=False)
    metric = Column(String(64))
    experiment = Column(String(80))
    variant = Column(String(64))
    message = Column(Text, nullable=False)
    # Recent window against baseline (a metric), or variant against control (an experiment).
    current_value = Column(Float)
    baseline_value = Column(Float)
    n_current = Column(Integer)
    n_baseline = Column(Integer)
    difference = Column(Float)
    ci_low = Column(Float)
    ci_high = Column(Float)
    p_value = Column(Float)
    raised_at = Column(DateTime, nullable=False)
    checked_at = Column(DateTime, nullable=False)
    resolved_at = Column(DateTime)


class AlertNotice(Base):
    """That a manager was told of an alert in the chat, so that each is told once."""

    __tablename__ = "alert_notices"
    __table_args__ = (UniqueConstraint("alert_id", "manager", name="uq_alert_notices_manager"),)

    id = Column(Integer, primary_key=True)
    alert_id = Column(Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False)
    # "name:<the token's name>", or "conversation:<id>" for a manager's token without a name.
    manager = Column(String(300), nullable=False)
    told_at = Column(DateTime, nullable=False)


NLU_MARK_STATUSES = ("pending", "accepted", "rejected")


class NluMark(Base):
    """A customer message staff marked as misunderstood, with the intent it should have had.

    One row per message (conversation and the user event's timestamp): marking it again
    updates the row. `text` is the message as staff saw it, redacted; the prediction is the
    one stored with the message. Accepted marks become training data (`supportbot nlu export`).
    """

    __tablename__ = "nlu_marks"
    __table_args__ = (
        UniqueConstraint("conversation_id", "message_ts", name="uq_nlu_marks_message"),
        CheckConstraint(_in("status", NLU_MARK_STATUSES), name="status_known"),
        Index("ix_nlu_marks_status_intent", "status", "chosen_intent"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    # The user event's own timestamp (seconds since the epoch, as Rasa stores it).
    message_ts = Column(Float, nullable=False)
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(64))
    confidence = Column(Float)
    chosen_intent = Column(String(64), nullable=False)
    marked_by = Column(String(120), nullable=False)
    marked_at = Column(DateTime, nullable=False)
    status = Column(String(16), nullable=False, default="pending")
    reviewed_by = Column(String(120))
    reviewed_at = Column(DateTime)
