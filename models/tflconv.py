"""faceproof's own TFLite -> ONNX converter for the ops tflite2onnx 0.4.1 lacks.

Used for FaceAntiSpoofing.tflite (LEAKY_RELU, DEQUANTIZE of fp16 weights, STRIDED_SLICE, GREATER_EQUAL,
LESS, CAST, ...). It reads the flatbuffer with the `tflite` package and writes the graph with `onnx`;
no TensorFlow.

Layout: the ONNX model takes NCHW input (like tflite2onnx's output for the other models of the pack).
Every 4-D activation is kept NCHW inside the graph; where TFLite semantics depend on NHWC element order
(RESHAPE, FULLY_CONNECTED on a 4-D tensor) a Transpose back to NHWC is inserted first. 4-D graph outputs
are transposed back to NHWC so output shapes equal the TFLite ones.

Only the ops and options seen in the models we convert are implemented; anything else raises
`Unsupported` naming the op, so a new model never converts silently wrong.

Usage: python tflconv.py IN.tflite OUT.onnx
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7  # opset 13 needs IR >= 7; keep it low for older runtimes

# TFLite TensorType -> (numpy dtype, ONNX dtype)
TENSOR_TYPES = {
    tflite.TensorType.FLOAT32: (np.float32, TensorProto.FLOAT),
    tflite.TensorType.FLOAT16: (np.float16, TensorProto.FLOAT16),
    tflite.TensorType.INT32: (np.int32, TensorProto.INT32),
    tflite.TensorType.INT64: (np.int64, TensorProto.INT64),
    tflite.TensorType.UINT8: (np.uint8, TensorProto.UINT8),
    tflite.TensorType.INT8: (np.int8, TensorProto.INT8),
    tflite.TensorType.BOOL: (np.bool_, TensorProto.BOOL),
}

NHWC_TO_NCHW = [0, 3, 1, 2]
NCHW_TO_NHWC = [0, 2, 3, 1]

OP_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


class Unsupported(Exception):
    """The model uses an op or option this converter does not implement."""


class Converter:
    def __init__(self, data: bytes):
        self.data = data
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            raise Unsupported(f"{self.model.SubgraphsLength()} subgraphs (only 1 is supported)")
        self.sg = self.model.Subgraphs(0)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.consts: dict[int, np.ndarray] = {}  # tensor index -> folded constant value
        self.nchw: set[int] = set()  # tensor indices whose ONNX value is NCHW (TFLite NHWC)
        self.value_name: dict[int, str] = {}  # tensor index -> ONNX value name
        self.used_names: set[str] = set()
        self.counter = 0
        self.graph_outputs = {self.sg.Outputs(k) for k in range(self.sg.OutputsLength())}
        self.used_names.update(self.tname(i) for i in self.graph_outputs)

    # ----- helpers -------------------------------------------------------------------------------
    def tensor(self, i: int):
        return self.sg.Tensors(i)

    def tname(self, i: int) -> str:
        return self.tensor(i).Name().decode()

    def shape(self, i: int) -> list[int]:
        t = self.tensor(i)
        return [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else []

    def ttype(self, i: int) -> int:
        return self.tensor(i).Type()

    def buffer_value(self, i: int) -> np.ndarray | None:
        t = self.tensor(i)
        b = self.model.Buffers(t.Buffer())
        if b is None:
            return None
        raw = None
        if b.DataLength():
            raw = b.DataAsNumpy().tobytes()
        elif hasattr(b, "Offset") and b.Offset() > 1 and b.Size() > 0:
            raw = self.data[b.Offset() : b.Offset() + b.Size()]
        if raw is None:
            return None
        if t.Type() not in TENSOR_TYPES:
            raise Unsupported(f"tensor {self.tname(i)}: type {t.Type()}")
        if t.Quantization() is not None and t.Quantization().ScaleLength():
            raise Unsupported(f"tensor {self.tname(i)}: quantized constants")
        dtype = TENSOR_TYPES[t.Type()][0]
        return np.frombuffer(raw, dtype=dtype).reshape(self.shape(i)).copy()

    def fresh(self, base: str) -> str:
        self.counter += 1
        name = f"{base}__fp{self.counter}"
        self.used_names.add(name)
        return name

    def add_init(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        self.used_names.add(name)
        return name

    def const_input(self, arr: np.ndarray, base: str) -> str:
        return self.add_init(self.fresh(base), arr)

    def node(self, op: str, inputs: list[str], outputs: list[str], **attrs) -> None:
        self.nodes.append(helper.make_node(op, inputs, outputs, name=self.fresh(op), **attrs))

    def value(self, i: int) -> str:
        """ONNX name of tensor i as stored (NCHW if i is in self.nchw)."""
        if i in self.value_name:
            return self.value_name[i]
        if i in self.consts:
            name = self.add_init(self.tname(i), self.consts[i])
            self.value_name[i] = name
            return name
        raise Unsupported(f"tensor {self.tname(i)} is used before it is produced")

    def value_nhwc(self, i: int) -> str:
        """ONNX name of tensor i in TFLite's own layout (transposing back if it is stored NCHW)."""
        v = self.value(i)
        if i not in self.nchw:
            return v
        out = self.fresh(self.tname(i) + "_nhwc")
        self.node("Transpose", [v], [out], perm=NCHW_TO_NHWC)
        return out

    def operand(self, i: int, like_nchw: bool) -> str:
        """Input of an elementwise op whose result is NCHW when like_nchw."""
        if i in self.consts and like_nchw:
            c = self.consts[i]
            if c.ndim == 4:
                c = c.transpose(NHWC_TO_NCHW)
            elif c.ndim == 1 and c.size > 1:  # per-channel vector broadcast on the last (C) axis
                c = c.reshape(-1, 1, 1)
            elif c.size != 1:
                raise Unsupported(f"broadcast of constant {self.tname(i)} {c.shape} to NCHW")
            return self.const_input(c, self.tname(i))
        if like_nchw and i not in self.nchw and len(self.shape(i)) == 4:
            v = self.value(i)
            out = self.fresh(self.tname(i) + "_nchw")
            self.node("Transpose", [v], [out], perm=NHWC_TO_NCHW)
            return out
        if not like_nchw and i in self.nchw:
            return self.value_nhwc(i)
        return self.value(i)

    def fused(self, act: int, pre: str, out_name: str) -> None:
        """Applies a TFLite fused activation to `pre`, producing `out_name`."""
        A = tflite.ActivationFunctionType
        if act == A.NONE:
            self.node("Identity", [pre], [out_name])
        elif act == A.RELU:
            self.node("Relu", [pre], [out_name])
        elif act == A.RELU6:
            lo = self.const_input(np.array(0.0, np.float32), "relu6_min")
            hi = self.const_input(np.array(6.0, np.float32), "relu6_max")
            self.node("Clip", [pre, lo, hi], [out_name])
        elif act == A.RELU_N1_TO_1:
            lo = self.const_input(np.array(-1.0, np.float32), "relu1_min")
            hi = self.const_input(np.array(1.0, np.float32), "relu1_max")
            self.node("Clip", [pre, lo, hi], [out_name])
        elif act == A.TANH:
            self.node("Tanh", [pre], [out_name])
        else:
            raise Unsupported(f"fused activation {act}")

    def out(self, i: int, nchw: bool) -> str:
        name = self.tname(i)
        if name in self.used_names or (nchw and i in self.graph_outputs):
            name = self.fresh(name)
        self.used_names.add(name)
        self.value_name[i] = name
        if nchw:
            self.nchw.add(i)
        return name

    def options(self, op, cls):
        table = op.BuiltinOptions()
        opts = cls()
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
        return opts

    @staticmethod
    def same_pads(in_hw, k_hw, s_hw, d_hw) -> list[int]:
        pads_begin, pads_end = [], []
        for n, k, s, d in zip(in_hw, k_hw, s_hw, d_hw):
            out = -(-n // s)
            eff = (k - 1) * d + 1
            total = max((out - 1) * s + eff - n, 0)
            pads_begin.append(total // 2)
            pads_end.append(total - total // 2)
        return pads_begin + pads_end

    # ----- ops -----------------------------------------------------------------------------------
    def op_dequantize(self, op, ins, outs):
        if ins[0] in self.consts:
            self.consts[outs[0]] = self.consts[ins[0]].astype(np.float32)
        else:
            self.node("Cast", [self.value(ins[0])], [self.out(outs[0], ins[0] in self.nchw)],
                      to=TensorProto.FLOAT)

    def op_conv_2d(self, op, ins, outs):
        o = self.options(op, tflite.Conv2DOptions)
        if ins[1] not in self.consts:
            raise Unsupported("CONV_2D with non-constant weights")
        w = self.consts[ins[1]]  # [O, KH, KW, I]
        in_shape = self.shape(ins[0])
        if len(in_shape) != 4:
            raise Unsupported(f"CONV_2D on rank {len(in_shape)}")
        groups = in_shape[3] // w.shape[3]
        strides = [o.StrideH(), o.StrideW()]
        dil = [o.DilationHFactor() or 1, o.DilationWFactor() or 1]
        if o.Padding() == tflite.Padding.SAME:
            pads = self.same_pads(in_shape[1:3], w.shape[1:3], strides, dil)
        else:
            pads = [0, 0, 0, 0]
        inputs = [self.operand(ins[0], True),
                  self.const_input(w.transpose(0, 3, 1, 2), self.tname(ins[1]) + "_oihw")]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self.value(ins[2]))
        pre = self.fresh(self.tname(outs[0]) + "_pre")
        self.node("Conv", inputs, [pre], kernel_shape=list(w.shape[1:3]), strides=strides,
                  dilations=dil, pads=pads, group=groups)
        self.fused(o.FusedActivationFunction(), pre, self.out(outs[0], True))

    def op_leaky_relu(self, op, ins, outs):
        o = self.options(op, tflite.LeakyReluOptions)
        nchw = ins[0] in self.nchw
        self.node("LeakyRelu", [self.value(ins[0])], [self.out(outs[0], nchw)], alpha=float(o.Alpha()))

    def _pool(self, op, ins, outs, onnx_op):
        o = self.options(op, tflite.Pool2DOptions)
        in_shape = self.shape(ins[0])
        k = [o.FilterHeight(), o.FilterWidth()]
        s = [o.StrideH(), o.StrideW()]
        pads = (self.same_pads(in_shape[1:3], k, s, [1, 1]) if o.Padding() == tflite.Padding.SAME
                else [0, 0, 0, 0])
        pre = self.fresh(self.tname(outs[0]) + "_pre")
        attrs = dict(kernel_shape=k, strides=s, pads=pads)
        if onnx_op == "AveragePool":
            attrs["count_include_pad"] = 0  # TFLite averages over the valid cells only
        self.node(onnx_op, [self.operand(ins[0], True)], [pre], **attrs)
        self.fused(o.FusedActivationFunction(), pre, self.out(outs[0], True))

    def op_max_pool_2d(self, op, ins, outs):
        self._pool(op, ins, outs, "MaxPool")

    def op_average_pool_2d(self, op, ins, outs):
        self._pool(op, ins, outs, "AveragePool")

    def op_reshape(self, op, ins, outs):
        new_shape = np.array(self.shape(outs[0]), dtype=np.int64)
        if len(ins) > 1 and ins[1] >= 0 and ins[1] in self.consts:
            new_shape = self.consts[ins[1]].astype(np.int64).reshape(-1)
        if ins[0] in self.consts:
            self.consts[outs[0]] = self.consts[ins[0]].reshape(new_shape)
            return
        shp = self.const_input(new_shape, self.tname(outs[0]) + "_shape")
        self.node("Reshape", [self.value_nhwc(ins[0]), shp], [self.out(outs[0], False)])

    def op_strided_slice(self, op, ins, outs):
        o = self.options(op, tflite.StridedSliceOptions)
        if o.EllipsisMask() or o.NewAxisMask():
            raise Unsupported("STRIDED_SLICE with ellipsis or new-axis mask")
        for j in ins[1:4]:
            if j not in self.consts:
                raise Unsupported("STRIDED_SLICE with non-constant begin/end/strides")
        begin, end, strides = (self.consts[j].astype(np.int64).reshape(-1) for j in ins[1:4])
        if ins[0] in self.nchw:
            raise Unsupported("STRIDED_SLICE on an NCHW tensor")
        big = np.iinfo(np.int64).max
        starts, ends = [], []
        for ax in range(len(begin)):
            st = int(strides[ax])
            b, e = int(begin[ax]), int(end[ax])
            if o.BeginMask() >> ax & 1:
                b = 0 if st > 0 else -1
            if o.EndMask() >> ax & 1:
                e = big if st > 0 else -big
            if o.ShrinkAxisMask() >> ax & 1:
                e = b + 1 if b != -1 else big
                if st < 0:
                    raise Unsupported("STRIDED_SLICE shrink with negative stride")
            starts.append(b)
            ends.append(e)
        axes = list(range(len(begin)))
        sliced = self.fresh(self.tname(outs[0]) + "_slice")
        self.node("Slice", [self.value(ins[0]),
                            self.const_input(np.array(starts, np.int64), "starts"),
                            self.const_input(np.array(ends, np.int64), "ends"),
                            self.const_input(np.array(axes, np.int64), "axes"),
                            self.const_input(strides.astype(np.int64), "steps")], [sliced])
        shrink = [ax for ax in axes if o.ShrinkAxisMask() >> ax & 1]
        if shrink:
            self.node("Squeeze", [sliced, self.const_input(np.array(shrink, np.int64), "sq_axes")],
                      [self.out(outs[0], False)])
        else:
            self.node("Identity", [sliced], [self.out(outs[0], False)])

    def _binary(self, op, ins, outs, onnx_op, opt_cls=None):
        act = 0
        if opt_cls is not None:
            act = self.options(op, opt_cls).FusedActivationFunction()
        if all(j in self.consts for j in ins):
            raise Unsupported(f"{onnx_op} of two constants (not folded)")
        nchw = any(j in self.nchw for j in ins) and len(self.shape(outs[0])) == 4
        a = self.operand(ins[0], nchw)
        b = self.operand(ins[1], nchw)
        if act == 0:
            self.node(onnx_op, [a, b], [self.out(outs[0], nchw)])
        else:
            pre = self.fresh(self.tname(outs[0]) + "_pre")
            self.node(onnx_op, [a, b], [pre])
            self.fused(act, pre, self.out(outs[0], nchw))

    def op_add(self, op, ins, outs):
        self._binary(op, ins, outs, "Add", tflite.AddOptions)

    def op_sub(self, op, ins, outs):
        self._binary(op, ins, outs, "Sub", tflite.SubOptions)

    def op_mul(self, op, ins, outs):
        self._binary(op, ins, outs, "Mul", tflite.MulOptions)

    def op_greater_equal(self, op, ins, outs):
        self._binary(op, ins, outs, "GreaterOrEqual")

    def op_less(self, op, ins, outs):
        self._binary(op, ins, outs, "Less")

    def op_cast(self, op, ins, outs):
        to_t = self.ttype(outs[0])
        if to_t not in TENSOR_TYPES:
            raise Unsupported(f"CAST to type {to_t}")
        nchw = ins[0] in self.nchw
        self.node("Cast", [self.value(ins[0])], [self.out(outs[0], nchw)], to=TENSOR_TYPES[to_t][1])

    def op_fully_connected(self, op, ins, outs):
        o = self.options(op, tflite.FullyConnectedOptions)
        if o.WeightsFormat() != 0:
            raise Unsupported("FULLY_CONNECTED with shuffled weights")
        if ins[1] not in self.consts:
            raise Unsupported("FULLY_CONNECTED with non-constant weights")
        w = self.consts[ins[1]]  # [out, in]
        x = self.value_nhwc(ins[0])
        in_shape = self.shape(ins[0])
        if len(in_shape) != 2 or in_shape[1] != w.shape[1]:
            flat = self.fresh(self.tname(ins[0]) + "_flat")
            self.node("Reshape", [x, self.const_input(np.array([-1, w.shape[1]], np.int64), "fc_shape")],
                      [flat])
            x = flat
        if o.KeepNumDims() and len(self.shape(outs[0])) != 2:
            raise Unsupported("FULLY_CONNECTED keep_num_dims with rank != 2")
        inputs = [x, self.value(ins[1])]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self.value(ins[2]))
        pre = self.fresh(self.tname(outs[0]) + "_pre")
        self.node("Gemm", inputs, [pre], transB=1)
        self.fused(o.FusedActivationFunction(), pre, self.out(outs[0], False))

    def op_concatenation(self, op, ins, outs):
        o = self.options(op, tflite.ConcatenationOptions)
        rank = len(self.shape(outs[0]))
        axis = o.Axis() % rank
        nchw = rank == 4 and any(j in self.nchw for j in ins)
        if nchw:
            axis = NHWC_TO_NCHW.index(axis)
        inputs = [self.operand(j, nchw) for j in ins]
        pre = self.fresh(self.tname(outs[0]) + "_pre")
        self.node("Concat", inputs, [pre], axis=axis)
        self.fused(o.FusedActivationFunction(), pre, self.out(outs[0], nchw))

    # ----- driver --------------------------------------------------------------------------------
    def convert(self) -> onnx.ModelProto:
        sg = self.sg
        for i in range(sg.TensorsLength()):
            v = self.buffer_value(i)
            if v is not None:
                self.consts[i] = v

        graph_inputs = []
        for k in range(sg.InputsLength()):
            i = sg.Inputs(k)
            shp = self.shape(i)
            elem = TENSOR_TYPES[self.ttype(i)][1]
            name = self.tname(i)
            self.used_names.add(name)
            if len(shp) == 4:
                graph_inputs.append(helper.make_tensor_value_info(
                    name, elem, [shp[d] for d in NHWC_TO_NCHW]))
                self.nchw.add(i)
            else:
                graph_inputs.append(helper.make_tensor_value_info(name, elem, shp))
            self.value_name[i] = name

        for k in range(sg.OperatorsLength()):
            op = sg.Operators(k)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            opcode = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            opname = OP_NAMES.get(opcode, str(opcode))
            handler = getattr(self, "op_" + opname.lower(), None)
            if handler is None:
                raise Unsupported(f"TFLite op {opcode} {opname} (operator #{k})")
            ins = [int(j) for j in op.InputsAsNumpy()] if op.InputsLength() else []
            outs = [int(j) for j in op.OutputsAsNumpy()]
            handler(op, ins, outs)

        graph_outputs = []
        for k in range(sg.OutputsLength()):
            i = sg.Outputs(k)
            name = self.tname(i)
            v = self.value_nhwc(i)
            if v != name:
                # the graph output must carry the TFLite name and layout
                self.value_name[i] = name
                for n in self.nodes:
                    for idx, o in enumerate(n.output):
                        if o == v:
                            n.output[idx] = name
            graph_outputs.append(helper.make_tensor_value_info(
                name, TENSOR_TYPES[self.ttype(i)][1], self.shape(i)))

        graph = helper.make_graph(self.nodes, "faceproof_tflconv", graph_inputs, graph_outputs,
                                  initializer=self.initializers)
        model = helper.make_model(graph, producer_name="faceproof-tflconv", producer_version="1",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        return model


def convert(src: str, dst: str) -> None:
    with open(src, "rb") as f:
        data = f.read()
    model = Converter(data).convert()
    with open(dst, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: tflconv.py IN.tflite OUT.onnx")
    convert(sys.argv[1], sys.argv[2])
