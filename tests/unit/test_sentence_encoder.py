"""The numpy MiniLM encoder (bot/nlu/sentence_encoder.py) against sentence-transformers itself.

`data/minilm_reference.json` holds the vectors that sentence-transformers 6.3 (PyTorch 2.13,
CPU) computed for these sentences from the same package's model, with normalize_embeddings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.sentence_encoder import EncoderUnavailable, SentenceEncoder

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def test_vectors_equal_sentence_transformers(encoder: SentenceEncoder) -> None:
    ours = encoder.encode(REFERENCE["sentences"], batch_size=3)
    theirs = np.asarray(REFERENCE["embeddings"], dtype=np.float32)
    assert ours.shape == theirs.shape == (len(REFERENCE["sentences"]), 384)
    assert np.abs(ours - theirs).max() < 1e-5
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() > 0.99999


def test_one_at_a_time_equals_in_a_batch(encoder: SentenceEncoder) -> None:
    texts = REFERENCE["sentences"]
    batch = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.abs(batch - alone).max() < 1e-5


def test_paraphrases_are_closer_than_other_requests(encoder: SentenceEncoder) -> None:
    refund, money_back, weather = encoder.encode(
        ["how do I get a refund", "I want my money back", "what is the weather tomorrow"]
    )
    assert refund @ money_back > refund @ weather + 0.3


def test_unit_length_and_empty_input(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode(["hello", "", "x" * 5000])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_a_directory_without_the_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailable, match="model.safetensors"):
        SentenceEncoder(tmp_path)
