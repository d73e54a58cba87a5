"""Nine fixes to Rasa 3.6's per-message overhead and one to its scheduling, installed by
`bot.rasa.launcher`.

None changes what Rasa does; each removes work it repeats on every message.

1. Action results are checked by compiled schemas. Rasa validates every custom action's
   response with `jsonschema.validate()`, which first re-validates the (constant) schema
   against the meta-schema and then tries every event against each of the 23 event
   schemas of a `oneOf`: about 120 ms per action, still a few ms with a cached validator.
   Each of those schemas is told apart by its `event` constant, so exactly one can match:
   here each event is checked by the schema its `event` names, compiled with
   fastjsonschema. A response this rejects goes through jsonschema as before, so an
   invalid response raises the same `ValidationError` with the same message.
2. Event classes are looked up in a table. `Event.resolve_by_type()` walks the whole
   subclass tree of `Event` for every stored event it deserialises (tens per message).
   The answer for a type name never changes once the classes are imported, so it is
   remembered; a name not seen yet is resolved the original way.
3. The model's graph runs without dask. Rasa runs the NLU pipeline and then the policies
   once per predicted action through `dask.get()` on a graph it rebuilds (and re-prunes)
   every time; the scheduler's bookkeeping took about 8% of a message's time. Here the
   pruned graph is kept per set of targets and its tasks are evaluated depth-first, each
   once, exactly the dask task semantics Rasa's graph uses: `(node, *parent_keys)` tuples
   and `(name, value)` input literals.
4. Requests to the action server keep their connection. Rasa opens a new HTTP session, so a
   new TCP connection, for every custom action it runs, and encodes the request (the whole
   conversation so far, 20-60 kB) with `json.dumps` (about 0.5 ms). Here each endpoint keeps
   one session per event loop, whose idle connections are reused for a few seconds (fewer
   than the action server keeps them open), and its JSON is encoded with orjson (a tenth of
   the time), falling back to `json.dumps` for anything orjson does not take.
5. A tracker is copied, not replayed. `DialogueStateTracker.copy()` builds a new tracker and
   replays every event of the conversation into it; Rasa copies the tracker before every
   action it runs (and forms again inside). A tracker's state is, by Rasa's own contract,
   what replaying its events gives, so here the copy takes the events and that state as
   they are: new slot objects, a new active-loop record, new placeholders where no message
   is the latest yet, the same (immutable) events and latest messages, and
   what a replayed copy does not carry (the model and assistant ids, the sender source)
   left out as the replay leaves it out. Trackers with a capped event history, whose
   replay would start from a truncated history, and subclasses are still replayed.
6. "Is the domain empty?" compares with the empty domain's dictionary, made once. Rasa asks
   for every message and builds a new empty `Domain` to compare with each time (about 2% of
   a message's time).
7. A form's validation tracker is a copy too. Before a form calls its validation action,
   Rasa builds the tracker it sends by replaying the whole conversation (after the latest
   restart) plus the form's new events. Where the conversation has no restart, that replay
   is the conversation's tracker with those events added, so it is made from a copy (5.)
   and the new events alone; other trackers are still replayed.
8. The processor's debug-log arguments are deep-copied only when debug logs are written.
   Rasa's processor deep-copies the events, slots and entities it passes to
   `structlogger.debug()` for every action, also when the debug level is off and the call
   drops them (about 2% of a message's time).
9. The loaded model is frozen out of the garbage collector. Once the model is loaded the
   process holds about 650,000 objects (Rasa, TensorFlow, the model), and each full
   collection, about once a minute under load, walked all of them again: 300-470 ms with
   every chat in the worker waiting. After the first model load they are collected once and
   frozen (`gc.freeze()`), so a full collection walks only what the chats create (about 10
   ms). Measured with 16 customers at once: the 99th percentile of answer times fell from
   about 400 ms to about 200-270 ms.

And the scheduling: a Rasa worker answers at most `SUPPORTBOT_MESSAGES_AT_ONCE` messages at
once (4 by default; 0 for no limit), the others wait their turn in order of arrival. Without
a limit every message in the worker shares the processor with all the others, and one that
calls the action server three times waits behind all of them three times: under load its
answer takes several times as long as a simple one's. With a few at a time, a message waits
for those that came before it and is then answered at full speed, while the worker still
has work while some of them wait for the action server. Measured with 16 customers at once
(README, "Chat speed"): the 95th percentile of answer times was 266-320 ms with the limit
against 354 ms without (one worker; two: 280-371 against 448), at the same number of
messages per second.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import gc
import json
import weakref
from collections.abc import Callable
from typing import Any

import orjson

from bot.settings import Settings

_installed = False


def compile_response_check(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """True when `schema` (Rasa's action response schema) accepts a response.

    The events' `oneOf` becomes a table from each alternative's `event` constant to that
    alternative, compiled with the properties every event shares.
    """
    import fastjsonschema

    event_schema = schema["properties"]["events"]["items"]
    shared = {key: value for key, value in event_schema.items() if key != "oneOf"}
    by_type = {}
    for alternative in event_schema["oneOf"]:
        name = alternative["properties"]["event"]["const"]
        assert name not in by_type, f"two event schemas for {name!r}"
        by_type[name] = fastjsonschema.compile({**shared, "allOf": [alternative]})
    outline = {**schema, "properties": {**schema["properties"], "events": {"type": "array"}}}
    check_outline = fastjsonschema.compile(outline)

    def accepts(result: Any) -> bool:
        try:
            check_outline(result)
            for event in result.get("events", ()):
                by_type[event["event"]](event)
        except (fastjsonschema.JsonSchemaException, KeyError, TypeError):
            return False
        return True

    return accepts


def action_result_validator() -> Callable[[Any, dict[str, Any]], bool]:
    """`RemoteAction._validate_action_result`: compiled fast path, jsonschema's errors."""
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    accepts = compile_response_check(schema)
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if accepts(result):
            return True
        error = best_match(validator.iter_errors(result))
        if error is None:  # the two validators disagree: jsonschema has the last word
            return True
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    return _validate_action_result


def event_type_resolver() -> Callable[..., Any]:
    """`Event.resolve_by_type` with the answer for each type name remembered."""
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    known: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        if type_name in known:
            return known[type_name]
        try:
            cls = original(type_name)
        except ValueError:  # an unknown name: the default, or the original's error
            return original(type_name, default)
        if cls is not None:  # None is the legacy "topic" event
            known[type_name] = cls
        return cls

    return resolve_by_type


def run_tasks(graph: dict[str, Any], targets: list[str]) -> list[Any]:
    """`dask.get(graph, targets)` for Rasa's graphs: each needed task once, depth-first.

    A task is a tuple whose first item is callable; its other items are the keys of the
    tasks whose results it takes (an item that is not a key is passed as it is). Anything
    else is a literal value.
    """
    results: dict[str, Any] = {}

    def result(key: str) -> Any:
        if key not in results:
            task = graph[key]
            if isinstance(task, tuple) and task and callable(task[0]):
                function, *arguments = task
                task = function(*(result(a) if _is_key(a, graph) else a for a in arguments))
            results[key] = task
        return results[key]

    return [result(target) for target in targets]


def _is_key(item: Any, graph: dict[str, Any]) -> bool:
    try:
        return item in graph
    except TypeError:  # unhashable: a literal
        return False


def graph_runner_run() -> Callable[..., dict[str, Any]]:
    """`DaskGraphRunner.run` with the pruned graph kept per targets and `run_tasks`."""
    from rasa.engine.exceptions import GraphRunError

    def run(
        self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
    ) -> dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        graphs = self.__dict__.setdefault("_supportbot_graphs", {})
        key = tuple(run_targets)
        if key not in graphs:
            graphs[key] = self._build_dask_graph(
                self._graph_schema.minimal_graph_schema(run_targets)
            )
        run_graph = dict(graphs[key])
        if inputs:
            self._add_inputs_to_graph(inputs, run_graph)
        try:
            return dict(run_tasks(run_graph, list(run_targets)))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    return run


# Seconds an idle connection to the action server is reused: below the 5 s for which the
# action server (Sanic's default keep-alive timeout) keeps it open.
KEEPALIVE_SECONDS = 3.0


def dumps_json(value: Any) -> str:
    """`json.dumps(value)` as a JSON document (the same data, possibly other whitespace and
    unescaped non-ASCII), with orjson where it can."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # e.g. integers beyond 64 bits: what json.dumps gives
        return json.dumps(value)


class _OpenSession:
    """`async with` gives a kept session and leaves it open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def kept_endpoint_session() -> Callable[[Any], Any]:
    """`EndpointConfig.session` keeping one session per endpoint and event loop.

    Rasa's callers use it as `async with endpoint.session() as session`; outside a running
    event loop it makes a new session, as Rasa does.
    """
    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    original = EndpointConfig.session

    def session(self: Any) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return original(self)
        kept = self.__dict__.setdefault("_supportbot_sessions", weakref.WeakKeyDictionary())
        client = kept.get(loop)
        if client is None or client.closed:
            auth = None
            if self.basic_auth:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            client = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                json_serialize=dumps_json,
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
            )
            kept[loop] = client
        return _OpenSession(client)

    return session


# Attributes of a tracker that its replayed copy does not carry over.
_NOT_REPLAYED = {"model_id": None, "assistant_id": None, "sender_source": None}


@functools.cache
def _plain_class(cls: type) -> bool:
    """Whether `copy.copy` of an instance is a new instance with the same `__dict__`."""
    custom = hasattr(cls, "__copy__") or hasattr(cls, "__setstate__")
    return not custom and not any(vars(c).get("__slots__") for c in cls.__mro__)


def copy_slot(slot: Any) -> Any:
    """`copy.copy(slot)` (what Rasa's copy does) for the plain objects Rasa's slots are."""
    cls: Any = type(slot)
    if not _plain_class(cls):
        return copy.copy(slot)
    clone = object.__new__(cls)
    clone.__dict__.update(slot.__dict__)
    return clone


def domain_is_empty() -> Callable[[Any], bool]:
    """`Domain.is_empty` with the empty domain's dictionary made once."""
    from rasa.shared.core.domain import Domain

    empty: list[dict[str, Any]] = []

    def is_empty(self: Any) -> bool:
        if not empty:
            empty.append(Domain.empty().as_dict())
        return bool(self.as_dict() == empty[0])

    return is_empty


def tracker_copy() -> Callable[[Any], Any]:
    """`DialogueStateTracker.copy`, copying the state instead of replaying the events."""
    from rasa.shared.constants import DEFAULT_SENDER_ID
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    replayed = DialogueStateTracker.copy

    def copy_tracker(self: Any) -> Any:
        if type(self) is not DialogueStateTracker or self._max_event_history is not None:
            return replayed(self)
        clone = object.__new__(DialogueStateTracker)
        state = {
            name: value for name, value in self.__dict__.items() if not name.startswith("_supportbot")
        }
        state.update(_NOT_REPLAYED)
        state["sender_id"] = self.sender_id or DEFAULT_SENDER_ID
        state["events"] = self._create_events(list(self.events))
        state["slots"] = {name: copy_slot(slot) for name, slot in self.slots.items()}
        if self.latest_action is not None:
            state["latest_action"] = dict(self.latest_action)
        # the placeholders a replay makes anew when no message is the latest one
        events = state["events"]
        if not any(event is self.latest_message for event in reversed(events)):
            state["latest_message"] = UserUttered.empty()
        if not any(event is self.latest_bot_utterance for event in reversed(events)):
            state["latest_bot_utterance"] = BotUttered.empty()
        if self.active_loop is not None:
            state["active_loop"] = dataclasses.replace(self.active_loop)
        clone.__dict__.update(state)
        return clone

    return copy_tracker


def form_temporary_tracker() -> Callable[..., Any]:
    """`FormAction._temporary_tracker` (the tracker a form's validation action is sent) from a
    copy of the conversation's tracker plus the form's events, instead of a replay of the
    whole conversation, when the copy is what the replay gives: a plain tracker with no
    restart in it (the replay starts after the latest one) and the domain's slots."""
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    replayed = FormAction._temporary_tracker
    copy_tracker = tracker_copy()

    def temporary_tracker(
        self: Any, current_tracker: Any, additional_events: list[Any], domain: Any
    ) -> Any:
        if (
            type(current_tracker) is not DialogueStateTracker
            or current_tracker._max_event_history is not None
            or current_tracker.is_rule_tracker
            or current_tracker.slots.keys() != {slot.name for slot in domain.slots}
            or current_tracker.idx_after_latest_restart() != 0  # the replay starts there
        ):
            return replayed(self, current_tracker, additional_events, domain)
        tracker = copy_tracker(current_tracker)
        events = [
            SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
            ActionExecuted(self.name()),
            *additional_events,
        ]
        for event in events:
            tracker.update(event)
        return tracker

    return temporary_tracker


class LogArgumentCopies:
    """Stands in for the `copy` module in `rasa.core.processor`, where every `deepcopy` is an
    argument of a `structlogger.debug()` call: the copy is made only when debug logs are
    written; otherwise the value itself is passed to the call, which drops it unread."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return copy.deepcopy(value, memo) if debug_logs_written() else value


def debug_logs_written() -> bool:
    """Whether structlog's configured logger writes debug logs (a filtering logger's
    methods below its level are `_nop`)."""
    import structlog

    debug = getattr(structlog.get_config().get("wrapper_class"), "debug", None)
    return getattr(debug, "__name__", "") != "_nop"


def frozen_after_loading(load_agent: Callable[..., Any]) -> Callable[..., Any]:
    """`rasa.core.agent.load_agent`, after which the process's objects (the model, Rasa,
    TensorFlow: most of the heap) are frozen out of the garbage collector (`gc.freeze()`).

    Only the first load freezes. A later load (a model replaced through the HTTP API)
    unfreezes them first, so that the replaced model can be collected; the process then
    collects as Python normally does.
    """
    loads = 0

    @functools.wraps(load_agent)
    async def load(*args: Any, **kwargs: Any) -> Any:
        nonlocal loads
        loads += 1
        if loads > 1:
            gc.unfreeze()
        agent = await load_agent(*args, **kwargs)
        if loads == 1:
            gc.collect()
            gc.freeze()
        return agent

    return load


def at_most(limit: int, handle: Callable[..., Any]) -> Callable[..., Any]:
    """`handle` (`MessageProcessor.handle_message`) working on at most `limit` messages at once
    per event loop; the others wait their turn, first come first served."""
    turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
    turns = weakref.WeakKeyDictionary()

    async def handle_message(self: Any, message: Any) -> Any:
        loop = asyncio.get_running_loop()
        turn = turns.get(loop)
        if turn is None:
            turn = turns[loop] = asyncio.Semaphore(limit)
        async with turn:
            return await handle(self, message)

    return handle_message


def install_performance_fixes() -> None:
    """Patch Rasa's classes in this process (once)."""
    global _installed
    if _installed:
        return
    from rasa.core import agent as rasa_agent
    from rasa.core import processor
    from rasa.core.actions.action import RemoteAction
    from rasa.core.actions.forms import FormAction
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    DialogueStateTracker.copy = tracker_copy()  # type: ignore[method-assign]
    FormAction._temporary_tracker = form_temporary_tracker()  # type: ignore[method-assign]
    processor.copy = LogArgumentCopies()  # type: ignore[assignment]
    rasa_agent.load_agent = frozen_after_loading(rasa_agent.load_agent)
    Domain.is_empty = domain_is_empty()  # type: ignore[method-assign]
    limit = Settings.from_env().messages_at_once
    if limit > 0:
        from rasa.core.processor import MessageProcessor

        handle = at_most(limit, MessageProcessor.handle_message)
        MessageProcessor.handle_message = handle  # type: ignore[method-assign]
    EndpointConfig.session = kept_endpoint_session()  # type: ignore[method-assign]
    RemoteAction._validate_action_result = action_result_validator()  # type: ignore[method-assign]
    DaskGraphRunner.run = graph_runner_run()  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(event_type_resolver())  # type: ignore[method-assign,assignment]
    _installed = True
