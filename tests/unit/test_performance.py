"""Rasa's per-message fixes give exactly the answers of the code they replace."""

import asyncio
import copy
import json

import pytest
from aiohttp import web
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from bot.rasa.performance import (
    action_result_validator,
    at_most,
    compile_response_check,
    domain_is_empty,
    dumps_json,
    event_type_resolver,
    kept_endpoint_session,
    run_tasks,
    tracker_copy,
)
from bot.settings import Settings
from tests.conversation_trackers import (
    before_every_action,
    conversation_test_trackers,
    project_domain,
    training_trackers,
)

VALID = [
    {
        "events": [{"event": "slot", "name": "order_id", "value": "104233", "timestamp": None}],
        "responses": [{"text": "Order 104233 shipped.", "buttons": [], "custom": {}}],
    },
    {"events": [], "responses": []},
    {},
]
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"no_event_key": 1}], "responses": []},
    {"events": [{"event": "slot"}], "responses": []},
    {"events": [], "responses": "not a list"},
    {"events": [], "responses": ["not an object"]},
]


# Events of every kind as an action server sends them, valid and not, one response each.
EVENTS = [
    *(
        event.as_dict()
        for event in (
            SlotSet("order_id", None),
            ActionExecuted("utter_greet", policy="RulePolicy", confidence=1.0),
            UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "x", "value": 1}]),
            BotUttered("Hello!", {"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
        )
    ),
    *({"event": cls.type_name} for cls in all_subclasses(Event)),
    {"event": "slot", "name": "order_id"},  # no value
    {"event": "slot", "name": 5, "value": 1},
    {"event": "user", "parse_data": {"intent": {"name": 3}}},
    {"event": "user", "parse_data": {"entities": [{"entity": "x"}]}},
    {"event": "entities", "entities": "none"},
    {"event": "action", "name": "x", "confidence": "high"},
    {"event": "bot", "timestamp": "yesterday"},
    {"event": "no_such_event"},
    {"event": ["slot"]},
    {"event": None},
    {"name": "order_id", "value": 1},
    {"event": "bot", "metadata": []},
    "slot",
    None,
]


def test_compiled_check_agrees_with_jsonschema_on_every_event():
    schema = RemoteAction.action_response_format_spec()
    accepts = compile_response_check(schema)
    validator = validator_for(schema)(schema)
    responses = [{"events": [event], "responses": []} for event in EVENTS] + [*VALID, *INVALID]
    verdicts = [accepts(response) for response in responses]
    assert verdicts == [validator.is_valid(response) for response in responses]
    assert True in verdicts and False in verdicts


def outcome(validate, action: RemoteAction, result: dict) -> str:
    try:
        return str(validate(action, result))
    except ValidationError as error:
        return f"error: {error.message}"


def test_action_results_get_rasas_verdicts_and_messages():
    action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1"))
    fast = action_result_validator()
    original = RemoteAction._validate_action_result
    expected = [outcome(original, action, r) for r in [*VALID, *INVALID]]
    assert [outcome(fast, action, r) for r in [*VALID, *INVALID]] == expected
    assert expected[: len(VALID)] == ["True"] * len(VALID)
    assert all(e.startswith("error:") and "Failed to validate" in e for e in expected[len(VALID) :])


def test_a_rejected_result_raises_jsonschemas_error():
    fast = action_result_validator()
    action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1"))
    with pytest.raises(ValidationError):
        fast(action, INVALID[0])


def test_event_types_resolve_as_before_also_when_remembered():
    resolve = event_type_resolver()
    names = sorted({cls.type_name for cls in all_subclasses(Event)})
    for _ in range(2):  # the second round is answered from the table
        assert [resolve(name) for name in names] == [Event.resolve_by_type(n) for n in names]
    assert resolve("user") is UserUttered
    assert resolve("slot") is SlotSet
    assert resolve("action") is ActionExecuted


def test_unknown_event_types_get_the_default_or_the_error():
    resolve = event_type_resolver()
    assert resolve("no_such_event", UserUttered) is UserUttered
    assert resolve("topic") is None
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        resolve("no_such_event")


class Node:
    """A graph node that records its calls and returns (its name, what it got)."""

    def __init__(self, name: str, calls: list[str]) -> None:
        self.name, self.calls = name, calls

    def __call__(self, *inputs):
        self.calls.append(self.name)
        return (self.name, inputs)


def rasa_like_graph(calls: list[str]) -> dict:
    """The shape of Rasa's graphs: nodes needing parents, an input literal, a shared parent.

    Rasa prunes a graph to what its targets need before running it, as here.
    """
    graph = {
        "tokenizer": (Node("tokenizer", calls), "__message__"),
        "featurizer": (Node("featurizer", calls), "tokenizer"),
        "classifier": (Node("classifier", calls), "featurizer", "tokenizer"),
        "extractor": (Node("extractor", calls), "tokenizer"),
        "output": (Node("output", calls), "classifier", "extractor", "not-a-key", 7),
    }
    graph["__message__"] = ("__message__", ["hello"])
    return graph


def test_graph_tasks_give_dasks_results_each_task_once():
    import dask

    ours_calls: list[str] = []
    dasks_calls: list[str] = []
    ours = run_tasks(rasa_like_graph(ours_calls), ["output", "featurizer"])
    theirs = dask.get(rasa_like_graph(dasks_calls), ["output", "featurizer"])
    assert ours == list(theirs)
    assert sorted(ours_calls) == sorted(dasks_calls)
    assert sorted(ours_calls) == ["classifier", "extractor", "featurizer", "output", "tokenizer"]


def test_a_failing_node_raises_its_own_error():
    def broken(*_inputs):
        raise KeyError("no such slot")

    graph = {"a": (broken,), "b": (lambda a: a, "a")}
    with pytest.raises(KeyError, match="no such slot"):
        run_tasks(graph, ["b"])


# --- 4. requests to the action server ---------------------------------------------------


def test_json_is_the_same_document_as_json_dumps():
    values = [
        {"events": [{"event": "user", "text": "café ☕ <b>", "parse_data": {"x": 0.1 + 0.2}}]},
        {1: "int key", None: "none key", "nested": [1, 2.5, True, None, "ü"]},
        {"big": 2**70},  # beyond orjson: json.dumps
        [],
    ]
    for value in values:
        assert json.loads(dumps_json(value)) == json.loads(json.dumps(value))


async def test_endpoint_requests_share_one_connection_and_send_the_same_body(aiohttp_server):
    bodies, peers, secrets = [], [], []

    async def webhook(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        peers.append(request.transport.get_extra_info("peername"))
        secrets.append(request.headers.get("X-Shop"))  # the endpoint's headers (the action secret)
        return web.json_response({"events": [], "responses": [{"text": "ok"}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    server = await aiohttp_server(app)
    endpoint = EndpointConfig(url=str(server.make_url("/webhook")), headers={"X-Shop": "demo"})
    session = kept_endpoint_session()
    original = EndpointConfig.session
    EndpointConfig.session = session
    try:
        payload = {"next_action": "action_x", "tracker": {"events": [{"event": "user", "text": "hé"}]}}
        answers = [await endpoint.request(json=payload, method="post") for _ in range(3)]
        kept = await endpoint.session().__aenter__()
        assert not kept.closed
        await kept.close()
        # a closed session is replaced, not reused
        answers.append(await endpoint.request(json=payload, method="post"))
        await (await endpoint.session().__aenter__()).close()
    finally:
        EndpointConfig.session = original
    assert answers == [{"events": [], "responses": [{"text": "ok"}]}] * 4
    assert bodies == [payload] * 4
    assert secrets == ["demo"] * 4
    assert peers[0] == peers[1] == peers[2] != peers[3]  # one connection, then a new one



# --- 5. tracker copies -------------------------------------------------------------------


def _everything(tracker: DialogueStateTracker) -> dict:
    """Every attribute of a tracker, objects by their content."""
    seen = dict(vars(tracker))
    seen["events"] = [event.as_dict() for event in tracker.events]
    seen["slots"] = {name: (type(slot), vars(slot)) for name, slot in tracker.slots.items()}
    for name in ("latest_message", "latest_bot_utterance"):
        message = seen[name].as_dict() if seen[name] else None
        if message and message["text"] is None:  # the placeholder: stamped when it was made
            del message["timestamp"]
        seen[name] = message
    return {name: value for name, value in seen.items() if not name.startswith("_supportbot")}


def _unusual_trackers(domain: Domain) -> list[DialogueStateTracker]:
    """Trackers with events the project's dialogues do not have."""
    base = [
        ActionExecuted("action_listen", timestamp=1.0),
        UserUttered("hi", {"name": "greet", "confidence": 0.9}, timestamp=2.0),
    ]
    extra = [
        [ActiveLoop("order_form"), LoopInterrupted(True), FollowupAction("utter_greet")],
        [ConversationPaused()],
        [ConversationPaused(), ConversationResumed(), SlotSet("order_id", "104233")],
        [ActionReverted(), SlotSet("email", "a@example.com")],
        [UserUtteranceReverted()],
        [Restarted(), ActionExecuted("action_listen")],
        [ActiveLoop("order_form"), ActionExecutionRejected("order_form"), ActiveLoop(None)],
    ]
    trackers = [
        DialogueStateTracker.from_events("unusual", [*base, *events], domain.slots)
        for events in extra
    ]
    with_ids = DialogueStateTracker.from_events("ids", base, domain.slots, sender_source="f.yml")
    with_ids.model_id, with_ids.assistant_id = "model-1", "supportbot"
    with_ids._supportbot_stored_events = 2  # what the tracker store marks: not copied
    return [*trackers, with_ids, DialogueStateTracker("no-slots", None)]


def test_a_copy_is_what_rasas_replayed_copy_is():
    domain = project_domain()
    conversations = [*training_trackers(domain), *conversation_test_trackers(domain)]
    trackers = [*before_every_action(conversations, domain), *_unusual_trackers(domain)]
    assert len(trackers) > 500
    copy = tracker_copy()
    for tracker in trackers:
        clone, replayed = copy(tracker), tracker.copy()
        assert _everything(clone) == _everything(replayed)
        for name in ("latest_message", "latest_bot_utterance"):  # shared as a replay shares
            same = getattr(replayed, name) is getattr(tracker, name)
            assert (getattr(clone, name) is getattr(tracker, name)) == same


def test_a_copy_changes_independently_of_the_original():
    domain = project_domain()
    tracker = DialogueStateTracker.from_events(
        "c", [ActionExecuted("action_listen"), ActiveLoop("order_form")], domain.slots
    )
    before = _everything(tracker)
    clone = tracker_copy()(tracker)
    clone.update(SlotSet("order_id", "104233"))
    clone.update(LoopInterrupted(True))
    assert clone.get_slot("order_id") == "104233" and clone.active_loop.is_interrupted
    clone.update(ActionExecuted("utter_greet"))
    clone.latest_action["extra"] = "x"
    assert _everything(tracker) == before


def test_capped_histories_and_subclasses_are_still_replayed():
    domain = project_domain()
    capped = DialogueStateTracker("c", domain.slots, max_event_history=2)
    for event in (SlotSet("order_id", "1"), SlotSet("email", "a@b.c"), ActionExecuted("x")):
        capped.update(event)
    copied = tracker_copy()(capped)
    # the replay of the two events kept forgets the first slot, as Rasa's copy does
    assert copied.get_slot("order_id") is None and capped.get_slot("order_id") == "1"
    rule = training_trackers(domain)[0]  # Rasa's TrackerWithCachedStates
    assert type(tracker_copy()(rule)) is type(rule.copy()) is not DialogueStateTracker


def test_the_slots_are_copied_as_copy_copies_them():
    from bot.rasa.performance import _plain_class, copy_slot

    domain = project_domain()
    assert all(_plain_class(type(slot)) for slot in domain.slots)  # the fast path is used
    for slot in domain.slots:
        clone = copy_slot(slot)
        assert type(clone) is type(slot) and vars(clone) == vars(copy.copy(slot))
        assert clone is not slot


# --- 6. the empty domain -----------------------------------------------------------------


def test_is_empty_answers_as_rasa_does():
    is_empty = domain_is_empty()
    for domain in (project_domain(), Domain.empty(), Domain.from_dict({"intents": ["greet"]})):
        assert is_empty(domain) == (domain.as_dict() == Domain.empty().as_dict())
    assert is_empty(Domain.empty()) and not is_empty(project_domain())


# --- scheduling: a few messages at once ---------------------------------------------------


async def test_at_most_n_messages_at_once_first_come_first_served():
    started, running, most = [], [], [0]

    async def handle(processor, message):
        started.append(message)
        running.append(message)
        most[0] = max(most[0], len(running))
        await asyncio.sleep(0.01 * (message % 3))  # some wait longer for the action server
        running.remove(message)
        return f"reply to {message}"

    limited = at_most(3, handle)
    replies = await asyncio.gather(*(limited(None, n) for n in range(12)))
    assert replies == [f"reply to {n}" for n in range(12)]
    assert most[0] == 3
    assert started == list(range(12))


def test_the_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("SUPPORTBOT_MESSAGES_AT_ONCE", raising=False)
    assert Settings.from_env().messages_at_once == 4
    monkeypatch.setenv("SUPPORTBOT_MESSAGES_AT_ONCE", "0")
    assert Settings.from_env().messages_at_once == 0
    monkeypatch.setenv("SUPPORTBOT_MESSAGES_AT_ONCE", "8")
    assert Settings.from_env().messages_at_once == 8


# --- 7. a form's validation tracker ------------------------------------------------------


def test_a_forms_validation_tracker_is_what_rasas_replay_gives(monkeypatch):
    import time

    from rasa.core.actions.forms import FormAction

    from bot.rasa.performance import form_temporary_tracker

    domain = project_domain()
    conversations = [*training_trackers(domain), *conversation_test_trackers(domain)]
    restarted = DialogueStateTracker.from_events(
        "restarted",
        [
            SlotSet("email", "a@example.com"),
            Restarted(),
            ActionExecuted("action_listen"),
            UserUttered("where is my order", {"name": "order_status", "confidence": 0.9}),
            ActiveLoop("order_form"),
            SlotSet("requested_slot", "order_id"),
        ],
        domain.slots,
    )
    trackers = [*before_every_action(conversations, domain), restarted]
    temporary = form_temporary_tracker()
    # the events the form adds are stamped with the time: the same time for both
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    compared = set()
    for tracker in trackers:
        if tracker.active_loop_name not in domain.form_names:
            continue
        form = FormAction(tracker.active_loop_name, None)
        new = [SlotSet("order_id", "104233"), SlotSet("nps_score", 9)]
        before = _everything(tracker)
        ours = temporary(form, tracker, new, domain)
        rasas = FormAction._temporary_tracker(form, tracker, new, domain)
        assert _everything(ours) == _everything(rasas)
        assert ours.current_state(EventVerbosity.ALL) == rasas.current_state(EventVerbosity.ALL)
        assert _everything(tracker) == before  # the conversation's tracker is left as it was
        compared.add(form.name())
    assert compared == {"order_form", "survey_form"}


# --- 8. debug-log arguments --------------------------------------------------------------


def test_every_deepcopy_in_rasas_processor_is_a_debug_log_argument():
    """What makes `LogArgumentCopies` safe: the processor deep-copies nothing else."""
    import ast
    import inspect

    from rasa.core import processor

    tree = ast.parse(inspect.getsource(processor))
    debug_arguments = {
        id(node)
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and ast.unparse(call.func) == "structlogger.debug"
        for argument in [*call.args, *(k.value for k in call.keywords)]
        for node in ast.walk(argument)
    }
    copies = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func).startswith("copy.")
    ]
    assert len(copies) >= 6
    assert all(id(node) in debug_arguments for node in copies)


def test_debug_log_arguments_are_copied_only_when_debug_logs_are_written():
    import logging

    import structlog

    from bot.rasa.performance import LogArgumentCopies

    copies = LogArgumentCopies()
    value = {"events": [{"event": "slot", "value": [1, 2]}]}
    saved = structlog.get_config()
    try:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
        assert copies.deepcopy(value) is value
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
        copied = copies.deepcopy(value)
        assert copied == value and copied is not value
        assert copied["events"][0]["value"] is not value["events"][0]["value"]
    finally:
        structlog.configure(**saved)
    assert copies.copy is copy.copy  # the rest of the module as it is


# --- 9. the loaded model frozen out of the garbage collector -----------------------------


def test_the_first_model_load_freezes_the_heap_and_a_later_one_unfreezes_it():
    import gc

    from bot.rasa.performance import frozen_after_loading

    loaded = []

    async def load_agent(model_path: str) -> dict:
        model = {"path": model_path, "weights": [[0.5] * 10 for _ in range(100)]}
        loaded.append(model)
        return model

    load = frozen_after_loading(load_agent)
    assert gc.get_freeze_count() == 0
    try:
        first = asyncio.run(load("models/one.tar.gz"))
        assert first["path"] == "models/one.tar.gz"
        assert gc.get_freeze_count() > 0
        assert gc.is_tracked(first)  # still a normal object; only the collector skips it
        # a replaced model: unfrozen, so the first model can be collected once dropped
        second = asyncio.run(load("models/two.tar.gz"))
        assert second["path"] == "models/two.tar.gz" and loaded == [first, second]
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
