"""The project's own dialogues as Rasa trackers: the training rules and stories (data/) and the
conversation tests (tests/conversations/), for tests that compare Rasa's behaviour with ours
on every turn of them."""

from __future__ import annotations

from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.generator import TrackerWithCachedStates, TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

ROOT = Path(__file__).resolve().parents[1]


def project_domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def training_trackers(domain: Domain) -> list[TrackerWithCachedStates]:
    """The rules and stories of data/, as Rasa trains on them (no augmentation)."""
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    return TrainingDataGenerator(
        importer.get_stories(), domain, remove_duplicates=True, augmentation_factor=0
    ).generate()


def conversation_test_trackers(domain: Domain) -> list[TrackerWithCachedStates]:
    """The conversation tests of tests/conversations/, one tracker each."""
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(ROOT / "domain.yml"),
        training_data_paths=[str(ROOT / "tests" / "conversations")],
    )
    return TrainingDataGenerator(
        importer.get_stories(), domain, remove_duplicates=False, augmentation_factor=0
    ).generate()


def before_every_action(
    conversations: list[TrackerWithCachedStates], domain: Domain
) -> list[DialogueStateTracker]:
    """For every action of every conversation, the tracker just before it."""
    return [
        DialogueStateTracker.from_events(tracker.sender_id, events[:end], domain.slots)
        for tracker in conversations
        for events in [list(tracker.events)]
        for end, event in enumerate(events)
        if isinstance(event, ActionExecuted)
    ]
