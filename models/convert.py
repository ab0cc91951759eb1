"""Converts the pack's TFLite models to ONNX (runs inside the set-up venv; fetch.py calls it).

usage: python convert.py --manifest pack.toml --inputs DIR --out DIR [--only NAME ...]

--inputs holds the extracted TFLite files named `<model name>.tflite`; every converted model is written
to --out as the model's `file`. Conversion is deterministic: tflite2onnx emits initializers and
value_info in set-iteration order (different on every run even with PYTHONHASHSEED fixed), so every
model is canonicalised (initializers and value_info sorted by name, deterministic protobuf
serialisation) before it is written. fetch.py then checks each output's sha256 against pack.toml.

Converters (the `converter` field of a model in pack.toml):
  tflite2onnx  tflite2onnx 0.4.1 (pinned in requirements.txt), NHWC inputs become NCHW.
  tflconv      faceproof's own converter (models/tflconv.py) for ops tflite2onnx lacks.
A model with `batch = "dynamic"` gets a symbolic batch dimension `N` (see make_batch_dynamic).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tomllib

import numpy as np
import onnx
from onnx import numpy_helper

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


def convert_one(spec: dict, src: str, dst: str) -> None:
    conv = spec["converter"]
    if conv == "tflite2onnx":
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
        src = os.path.join(args.inputs, spec["name"] + ".tflite")
        dst = os.path.join(args.out, spec["file"])
        convert_one(spec, src, dst)
        print(f"converted {spec['name']} ({spec['converter']}) -> {spec['file']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
