"""The ownership rule, without a database or Rasa."""

from __future__ import annotations

import pytest

from bot.auth.tokens import Identity
from bot.support.ownership import (
    Requester,
    evidence_matches,
    looks_like_evidence,
    may_access,
    needs_proof,
    postcodes_of,
)

ANNA = Requester(Identity("customer", 17), "c1")
BEN = Requester(Identity("customer", 18), "c2")
VISITOR = Requester(Identity(), "c3")
PROVEN = Requester(Identity(), "c3", proven_orders=frozenset({"104233"}))
MANAGER = Requester(Identity("manager", None, "Maria"), "c4")


def test_a_signed_customer_reaches_only_their_own_orders():
    assert may_access(ANNA, "104233", 17)
    assert not may_access(BEN, "104233", 17)
    assert not needs_proof(ANNA, "104233")


def test_a_visitor_reaches_an_order_only_after_proving_it():
    assert not may_access(VISITOR, "104233", 17)
    assert needs_proof(VISITOR, "104233")
    assert may_access(PROVEN, "104233", 17)
    assert not may_access(PROVEN, "104234", 17)  # one proof, one order


def test_a_manager_chatting_is_a_visitor_for_orders():
    assert not may_access(MANAGER, "104233", 17)
    assert needs_proof(MANAGER, "104233")
    assert MANAGER.customer_id is None


def test_a_signed_customer_cannot_borrow_a_proof():
    ben_with_proof = Requester(Identity("customer", 18), "c2", proven_orders=frozenset({"104233"}))
    assert not may_access(ben_with_proof, "104233", 17)


ADDRESS = "12 Oak Street, Manchester M14 5AB, United Kingdom"


@pytest.mark.parametrize(
    "evidence",
    [
        "anna@example.com",
        "ANNA@Example.com",
        " it's anna@example.com.",
        "M14 5AB",
        "m145ab",
    ],
)
def test_the_orders_email_or_postcode_proves_it(evidence):
    assert evidence_matches(evidence, "anna@example.com", ADDRESS)


@pytest.mark.parametrize(
    "evidence",
    [
        "",
        "ann@example.com",
        "anna@example.co",
        "xanna@example.com",
        "M14",  # only part of the postcode
        "5AB",
        "Manchester",
        "12",
        "anna@example.com" + "x" * 400,
        "United Kingdom",
    ],
)
def test_anything_else_proves_nothing(evidence):
    assert not evidence_matches(evidence, "anna@example.com", ADDRESS)


def test_postcodes_are_read_from_both_address_styles():
    assert postcodes_of(ADDRESS) == {"M145AB"}
    assert postcodes_of("Hauptstrasse 1, 10115 Berlin") == {"10115"}


@pytest.mark.parametrize("text", ["anna@example.com", "M14 5AB", "10115", "my email is a@b.de"])
def test_evidence_is_told_apart_from_a_question(text):
    assert looks_like_evidence(text)


@pytest.mark.parametrize("text", ["what's your return policy?", "no idea", "", "the blue one"])
def test_a_question_is_not_evidence(text):
    assert not looks_like_evidence(text)
