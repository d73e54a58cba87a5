"""The audit log: who saw or changed whose data, and when. Rows are only ever added."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import AuditLog


def record(
    session: Session,
    user_name: str,
    action: str,
    target: str,
    detail: str | dict[str, Any] = "",
    at: datetime | None = None,
) -> AuditLog:
    """Add one row (the caller's transaction commits it). A dict detail is stored as JSON.

    Keep personal data out of `detail`: the log outlives an erasure.
    """
    text = detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True, default=str)
    row = AuditLog(
        at=at or datetime.utcnow().replace(microsecond=0),
        user_name=user_name,
        action=action,
        target=target[:255],
        detail=text,
    )
    session.add(row)
    session.flush()
    return row


def recent(session: Session, limit: int = 100) -> list[AuditLog]:
    return list(
        session.execute(
            select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
        ).scalars()
    )
