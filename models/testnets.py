"""Synthetic ONNX graphs for the tests of the operator model slots (`[vision.models]`): tiny
graphs whose output is known in closed form, written at test time, never committed and never
used as a model. Run with the set-up's venv (onnx from models/requirements.txt).

  python models/testnets.py channel-means SIZE OUT   [1,3,S,S] -> per-channel mean, [1,3] logits
  python models/testnets.py constant SIZE LOGIT OUT  [1,3,S,S] -> LOGIT whatever the input, [1,1]
  python models/testnets.py wide W H OUT             [1,3,H,W] -> [1,2] (a non-square input)
"""

import sys

import onnx
from onnx import TensorProto, helper

OPSET = 18  # ReduceMean takes its axes as an input from opset 18


def tensor(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def channel_means(size):
    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3])
    node = helper.make_node("ReduceMean", ["input", "axes"], ["logits"], keepdims=0)
    return helper.make_graph(
        [node], "channel_means", [tensor("input", [1, 3, size, size])], [tensor("logits", [1, 3])], [axes]
    )


def constant(size, logit):
    # 0 * mean(input) + logit: the input is read (a graph needs a path from it) but cannot move it.
    init = [
        helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("logit", TensorProto.FLOAT, [], [logit]),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["input", "axes"], ["m"], keepdims=1),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["z", "logit"], ["y"]),
        helper.make_node("Flatten", ["y"], ["fake_logit"], axis=1),
    ]
    return helper.make_graph(
        nodes, "constant", [tensor("input", [1, 3, size, size])], [tensor("fake_logit", [1, 1])], init
    )


def wide(w, h):
    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3])
    nodes = [
        helper.make_node("ReduceMean", ["input", "axes"], ["m"], keepdims=0),
        helper.make_node("Slice", ["m", "starts", "ends", "axis"], ["logits"]),
    ]
    init = [
        axes,
        helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
        helper.make_tensor("ends", TensorProto.INT64, [1], [2]),
        helper.make_tensor("axis", TensorProto.INT64, [1], [1]),
    ]
    return helper.make_graph(nodes, "wide", [tensor("input", [1, 3, h, w])], [tensor("logits", [1, 2])], init)


def main(argv):
    kind, args, out = argv[1], argv[2:-1], argv[-1]
    if kind == "channel-means":
        graph = channel_means(int(args[0]))
    elif kind == "constant":
        graph = constant(int(args[0]), float(args[1]))
    elif kind == "wide":
        graph = wide(int(args[0]), int(args[1]))
    else:
        sys.exit(f"unknown kind {kind}")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="faceproof-tests")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, out)


if __name__ == "__main__":
    main(sys.argv)
