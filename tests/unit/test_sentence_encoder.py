"""The MiniLM encoders against sentence-transformers itself: the numpy reference
(bot/nlu/sentence_encoder.py) and the ONNX Runtime graph the bot runs (bot/nlu/onnx_encoder.py).

`data/minilm_reference.json` holds the vectors that sentence-transformers 6.3 (PyTorch 2.13,
CPU) computed for these sentences from the same package's model, with normalize_embeddings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.onnx_encoder import OnnxSentenceEncoder
from bot.nlu.sentence_encoder import BatchEncoder, EncoderUnavailable, SentenceEncoder

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())

ENCODERS: dict[str, Callable[..., BatchEncoder]] = {
    "numpy": SentenceEncoder,
    "onnx-fused": lambda *args: OnnxSentenceEncoder(*args, fused=True),
    "onnx-plain": lambda *args: OnnxSentenceEncoder(*args, fused=False),
}


@pytest.fixture(scope="module", params=sorted(ENCODERS))
def encoder(request: pytest.FixtureRequest) -> BatchEncoder:
    return ENCODERS[request.param]()


def test_vectors_equal_sentence_transformers(encoder: BatchEncoder) -> None:
    ours = encoder.encode(REFERENCE["sentences"], batch_size=3)
    theirs = np.asarray(REFERENCE["embeddings"], dtype=np.float32)
    assert ours.dtype == np.float32
    assert ours.shape == theirs.shape == (len(REFERENCE["sentences"]), 384)
    assert np.abs(ours - theirs).max() < 1e-5
    assert (ours * theirs).sum(axis=1).min() > 0.99999


def test_one_at_a_time_equals_in_a_batch(encoder: BatchEncoder) -> None:
    texts = REFERENCE["sentences"]
    batch = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.abs(batch - alone).max() < 1e-5


def test_paraphrases_are_closer_than_other_requests(encoder: BatchEncoder) -> None:
    refund, money_back, weather = encoder.encode(
        ["how do I get a refund", "I want my money back", "what is the weather tomorrow"]
    )
    assert refund @ money_back > refund @ weather + 0.3


def test_unit_length_and_empty_input(encoder: BatchEncoder) -> None:
    vectors = encoder.encode(["hello", "", "x" * 5000])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_a_directory_without_the_model_is_a_clear_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(EncoderUnavailable, match="model.safetensors"):
        ENCODERS[name](tmp_path)


def test_the_cached_graph_is_the_same_model(tmp_path: Path) -> None:
    built = OnnxSentenceEncoder(cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.onnx"))) == 1
    cached = OnnxSentenceEncoder(cache_dir=tmp_path)
    texts = REFERENCE["sentences"][:3]
    assert np.array_equal(built.encode(texts), cached.encode(texts))
