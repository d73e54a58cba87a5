"""Who sees the alerts: managers do; a customer or support staff asking get nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.auth.tokens import ANONYMOUS, Identity
from bot.monitoring import NotAllowed, alerts_to_tell, chat_notice, open_alerts, run_check
from bot.storage.models import AlertNotice
from bot.storage.session import session_scope
from tests.monitoring.data import NOW, baseline, window

MARIA = Identity("manager", name="maria.manager")
CUSTOMER = Identity("customer", customer_id=7)
STAFF = Identity("staff", name="sam.staff")


@pytest.fixture
def csat_alert(session_factory: sessionmaker) -> sessionmaker:
    baseline(session_factory, satisfied=0.84)
    window(session_factory, satisfied=0.71)
    [alert] = run_check(session_factory, (), NOW, 10).raised
    assert alert.metric == "csat"
    return session_factory


def notices(factory: sessionmaker) -> int:
    with session_scope(factory) as session:
        return int(session.scalar(select(func.count()).select_from(AlertNotice)) or 0)


def test_a_manager_reads_the_open_alerts(csat_alert: sessionmaker):
    [alert] = open_alerts(MARIA, csat_alert)
    assert alert.message.startswith("CSAT fell from 84% (n = 412) to 71% (n = 130)")


@pytest.mark.parametrize(
    "who", [CUSTOMER, ANONYMOUS, STAFF], ids=["customer", "anonymous", "staff"]
)
def test_anyone_else_is_refused(csat_alert: sessionmaker, who: Identity):
    with pytest.raises(NotAllowed):
        open_alerts(who, csat_alert)


def test_a_manager_is_told_each_alert_once(csat_alert: sessionmaker):
    [told] = alerts_to_tell(MARIA, "chat-1", csat_alert, NOW)
    assert told.metric == "csat"
    assert chat_notice([told]) == (
        f"Monitoring alert since we last spoke:\n• {told.message}\n"
        "The dashboard lists every open alert."
    )
    # The next chat, even in another conversation: nothing new to tell.
    assert alerts_to_tell(MARIA, "chat-2", csat_alert, NOW + timedelta(hours=2)) == []
    assert chat_notice([]) is None
    # Another manager has not been told yet.
    [other] = alerts_to_tell(Identity("manager", name="omar"), "chat-3", csat_alert, NOW)
    assert other.id == told.id
    assert notices(csat_alert) == 2


def test_a_new_alert_is_told_though_older_ones_were(csat_alert: sessionmaker):
    alerts_to_tell(MARIA, "chat-1", csat_alert, NOW)
    baseline(csat_alert, n=400, first_response=2.0, prefix="times-before")
    window(csat_alert, n=130, first_response=4.0, prefix="times-recent", satisfied=0.71)
    run_check(csat_alert, (), NOW + timedelta(hours=1), 10)
    [told] = alerts_to_tell(MARIA, "chat-2", csat_alert, NOW + timedelta(hours=2))
    assert told.metric == "first_response_time"


def test_a_manager_without_a_name_is_told_once_per_conversation(csat_alert: sessionmaker):
    nameless = Identity("manager")
    assert len(alerts_to_tell(nameless, "chat-1", csat_alert, NOW)) == 1
    assert alerts_to_tell(nameless, "chat-1", csat_alert, NOW) == []


@pytest.mark.parametrize(
    "who", [CUSTOMER, ANONYMOUS, STAFF], ids=["customer", "anonymous", "staff"]
)
def test_a_customer_or_staff_member_is_told_nothing(csat_alert: sessionmaker, who: Identity):
    assert alerts_to_tell(who, "chat-1", csat_alert, NOW) == []
    assert notices(csat_alert) == 0
    # ...and the manager still gets it.
    assert len(alerts_to_tell(MARIA, "chat-1", csat_alert, NOW)) == 1
