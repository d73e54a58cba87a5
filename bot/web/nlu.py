"""Staff's improvement loop: mark a transcript's message as misunderstood, review on /staff/nlu.

The use cases are `bot.nlu_review.marks`; this module turns requests into calls (with the
signed-in user as the identity) and results into pages.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.auth.tokens import Identity
from bot.nlu_review import marks as nlu
from bot.transcripts.transcript import Line
from bot.web.auth import StaffUser, check_csrf, current_user, flash, render, require_role
from bot.web.keys import services_key, settings_key, tracker_engine_key

STAFF = ("staff", "manager")
NLU_PATH = "/staff/nlu"


def identity_of(user: StaffUser) -> Identity:
    return Identity(role=user.role, name=user.name)


async def _identity(request: web.Request) -> Identity:
    user = await current_user(request)
    assert user is not None  # require_role let only a signed-in user through
    return identity_of(user)


def intents(request: web.Request) -> tuple[str, ...]:
    return nlu.domain_intents(request.app[settings_key].project_root / "domain.yml")


@dataclass(frozen=True)
class TranscriptMarks:
    """What the transcript page shows of the marks: each message's mark and its choices."""

    found: nlu.ConversationMarks
    intents: tuple[str, ...]

    def mark(self, line: Line) -> nlu.MarkView | None:
        return self.found.marks.get(line.stamp) if line.stamp is not None else None

    def markable(self, line: Line) -> bool:
        return line.kind == "user" and line.stamp in self.found.markable

    def choices(self, line: Line) -> tuple[list[str], list[str]]:
        return nlu.intent_choices(line.ranking, self.intents)


async def transcript_marks(request: web.Request, conversation_id: str) -> TranscriptMarks:
    identity = await _identity(request)
    found = await asyncio.to_thread(
        nlu.conversation_marks,
        identity,
        request.app[services_key].session_factory,
        request.app[tracker_engine_key],
        conversation_id,
    )
    return TranscriptMarks(found, await asyncio.to_thread(intents, request))


def message_url(conversation_id: str, stamp: float) -> str:
    from bot.web.staff import conversation_url

    return f"{conversation_url(conversation_id)}#m-{stamp!r}"


@require_role(*STAFF)
async def mark(request: web.Request) -> web.StreamResponse:
    """Mark a message of this conversation as misunderstood, with the intent it meant."""
    form = await request.post()
    await check_csrf(request, form)
    conversation_id = request.match_info["conversation_id"]
    try:
        stamp = float(str(form.get("message_ts", "")))
    except ValueError as error:
        raise web.HTTPBadRequest(
            text="Which message? The form is damaged; reload the page."
        ) from error
    intent = str(form.get("intent", ""))
    services = request.app[services_key]
    try:
        made = await asyncio.to_thread(
            nlu.mark_message,
            await _identity(request),
            services.session_factory,
            request.app[tracker_engine_key],
            conversation_id,
            stamp,
            intent,
            intents(request),
            services.now(),
        )
    except nlu.InvalidMark as problem:
        raise web.HTTPBadRequest(text=f"Not marked: {problem}.") from problem
    await flash(request, f"Marked as meaning {made.chosen_intent}; it is waiting for review.")
    raise web.HTTPSeeOther(message_url(conversation_id, made.message_ts))


@require_role(*STAFF)
async def review_page(request: web.Request) -> web.StreamResponse:
    services = request.app[services_key]
    found = await asyncio.to_thread(
        nlu.overview,
        await _identity(request),
        services.session_factory,
        request.app[tracker_engine_key],
        request.app[settings_key].nlu_review_threshold,
    )
    context: dict[str, Any] = {"o": found, "message_url": message_url}
    return await render("staff_nlu.html.j2", request, context)


@require_role(*STAFF)
async def review(request: web.Request) -> web.StreamResponse:
    """Accept or reject a mark."""
    form = await request.post()
    await check_csrf(request, form)
    try:
        mark_id = int(request.match_info["mark_id"])
    except ValueError as error:
        raise web.HTTPNotFound() from error
    services = request.app[services_key]
    try:
        done = await asyncio.to_thread(
            nlu.review_mark,
            await _identity(request),
            services.session_factory,
            mark_id,
            str(form.get("decision", "")),
            services.now(),
        )
    except nlu.InvalidMark as problem:
        raise web.HTTPBadRequest(text=f"Nothing changed: {problem}.") from problem
    await flash(request, f"Mark #{done.id} ({done.chosen_intent}) {done.status}.")
    raise web.HTTPSeeOther(NLU_PATH)


def setup(app: web.Application) -> None:
    app.router.add_get(NLU_PATH, review_page, name="staff.nlu")
    app.router.add_post(NLU_PATH + "/marks/{mark_id}", review, name="staff.nlu.review")
    app.router.add_post("/staff/conversations/{conversation_id}/nlu-marks", mark)
