"""How the survey's first question (NPS, 0 to 10) is worded, by variant of `survey-wording`.

The experiment (data/experiments.yml) compares today's question (`standard`, the control)
with a shorter, friendlier one (`short`). Only the words differ: both say "from 0 to 10" and
come with the same 0..10 buttons, so the answers mean the same in both variants.
"""

from __future__ import annotations

from typing import Any

SURVEY_WORDING = "survey-wording"
STANDARD = "standard"
SHORT = "short"
CONTROL_WORDING = STANDARD

NPS_QUESTIONS = {
    STANDARD: "Before you go: how likely are you to recommend us to a friend, from 0 to 10?",
    SHORT: "Quick one: how likely are you to recommend us, from 0 to 10?",
}


def nps_question(variant: str = CONTROL_WORDING) -> str:
    """The NPS question in the variant's words (the control's for an unknown variant)."""
    return NPS_QUESTIONS.get(variant, NPS_QUESTIONS[CONTROL_WORDING])


def nps_buttons() -> list[dict[str, Any]]:
    """One button per answer, 0 to 10: the same in every variant."""
    return [{"title": str(n), "payload": str(n)} for n in range(11)]
