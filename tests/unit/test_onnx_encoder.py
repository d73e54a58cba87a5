"""The ONNX Runtime MiniLM encoder (bot/nlu/onnx_encoder.py) against sentence-transformers.

Same reference vectors as tests/unit/test_sentence_encoder.py (`data/minilm_reference.json`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime==1.19.2)"
)
pytest.importorskip("onnx", reason="onnx is not installed (pip install onnx==1.16.2)")

from bot.nlu.onnx_encoder import OnnxSentenceEncoder  # noqa: E402
from bot.nlu.sentence_encoder import EncoderUnavailable  # noqa: E402

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module", params=[True, False], ids=["fused", "plain"])
def encoder(request: pytest.FixtureRequest) -> OnnxSentenceEncoder:
    return OnnxSentenceEncoder(fused=request.param)


def test_vectors_equal_sentence_transformers(encoder: OnnxSentenceEncoder) -> None:
    ours = encoder.encode(REFERENCE["sentences"], batch_size=3)
    theirs = np.asarray(REFERENCE["embeddings"], dtype=np.float32)
    assert ours.dtype == np.float32
    assert ours.shape == theirs.shape == (len(REFERENCE["sentences"]), encoder.dimension)
    assert np.abs(ours - theirs).max() < 1e-4
    assert (ours * theirs).sum(axis=1).min() > 0.9999


def test_one_at_a_time_equals_in_a_batch(encoder: OnnxSentenceEncoder) -> None:
    texts = REFERENCE["sentences"]
    batch = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.abs(batch - alone).max() < 1e-5


def test_unit_length_and_empty_input(encoder: OnnxSentenceEncoder) -> None:
    vectors = encoder.encode(["hello", "", "x" * 5000])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_the_cached_graph_is_the_same_model(tmp_path: Path) -> None:
    built = OnnxSentenceEncoder(cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.onnx"))) == 1
    cached = OnnxSentenceEncoder(cache_dir=tmp_path)
    texts = REFERENCE["sentences"][:3]
    assert np.array_equal(built.encode(texts), cached.encode(texts))


def test_a_directory_without_the_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailable, match="model.safetensors"):
        OnnxSentenceEncoder(tmp_path)
