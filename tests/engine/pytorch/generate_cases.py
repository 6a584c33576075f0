#!/usr/bin/python3
"""Differential test cases: the ops of modules 02-05 run by PyTorch, written to cases.json.

Run by hand, from anywhere, with a Python that has PyTorch (1.13 here: /usr/bin/python3):

    /usr/bin/python3 tests/engine/pytorch/generate_cases.py      # rewrites tests/engine/pytorch/cases.json

and commit cases.json. Nothing runs Python at build or test time: tests/engine/test_pytorch_cases.cpp
reads the committed file (its path is the compile definition TT_PYTORCH_CASES, tests/CMakeLists.txt)
and checks the engine against it. The output is deterministic (fixed seeds, no timestamps), so an
unchanged script regenerates an identical file.

A case is one op applied to one set of inputs:

    name      unique, says what is special ("add: broadcast (2, 1, 3) + (4, 3)")
    module    "02" .. "05": whose code the case exercises first (views, autograd nodes: 02 and 06)
    op        the engine function, see OPS below; args: its settings (dim, keepdim, reduction, ...)
    inputs    [{shape, values, view, grad}]: `values` (row-major) fill a fresh contiguous leaf of
              `shape`; `view` is a chain of view ops applied to the leaf before the op sees it
              (["t"], ["transpose", d0, d1], ["permute", dims], ["slice", dim, start, end, step],
              ["select", dim, index], ["expand", shape], ["unsqueeze", dim]): how non-contiguous
              inputs are made; `grad`: the leaf requires grad
    output    {shape, values}: PyTorch's result, or
    error     PyTorch's message when it refuses the inputs (the engine must throw tt::Error)
    grad_output  {shape, values}: a fixed random weight w of the output's shape
    grads     per input: d sum(output * w) / d leaf, {shape, values}; null when the input does not
              require grad (zeros where PyTorch has no gradient at all)
    atol, rtol   only where a case needs other tolerances than 1e-6 / 1e-5 (with the reason in `note`)
    engine    only for documented deviations from PyTorch: {output, grads, deviation}, what the
              engine is specified to give instead (checked in place of `output` and `grads`) and
              which rule of the engine says so

Values are float32 written with 9 significant digits (exact round trip); NaN and infinities are
the strings "nan", "inf" and "-inf" (JSON has no literal for them).
"""

import json
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases.json")

NAN = float("nan")
INF = float("inf")

torch.manual_seed(0)
_gen = torch.Generator().manual_seed(20240601)
CASES = []


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------

def encode_value(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float("%.9g" % v)


def encode(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "values": [encode_value(v) for v in t.reshape(-1).tolist()]}


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def uniform(shape, low=-2.0, high=2.0):
    return torch.rand(shape, generator=_gen) * (high - low) + low


def values(data):
    return torch.tensor(data, dtype=torch.float32)


class In:
    """An input: a leaf holding `base`, seen through `view`, requiring grad when `grad`."""

    def __init__(self, base, view=(), grad=True):
        self.base = base.to(torch.float32)
        self.view = [list(v) for v in view]
        self.grad = grad


def apply_view(t, view):
    for step in view:
        kind = step[0]
        if kind == "t":
            t = t.t()
        elif kind == "transpose":
            t = t.transpose(step[1], step[2])
        elif kind == "permute":
            t = t.permute(*step[1])
        elif kind == "slice":
            dim, start, end, stride = step[1], step[2], step[3], step[4]
            index = [slice(None)] * t.dim()
            index[dim] = slice(start, end, stride)
            t = t[tuple(index)]
        elif kind == "select":
            t = t.select(step[1], step[2])
        elif kind == "expand":
            t = t.expand(*step[1])
        elif kind == "unsqueeze":
            t = t.unsqueeze(step[1])
        else:
            raise ValueError(kind)
    return t


# ---------------------------------------------------------------------------------------------
# The ops, as PyTorch computes them (the C++ test has the same table for the engine)
# ---------------------------------------------------------------------------------------------

def op_sum(x, dim=None, keepdim=False):
    return x.sum() if dim is None else x.sum(dim, keepdim=keepdim)


def op_mean(x, dim=None, keepdim=False):
    return x.mean() if dim is None else x.mean(dim, keepdim=keepdim)


def op_max(x, dim=None, keepdim=False):
    return x.max() if dim is None else x.max(dim, keepdim=keepdim).values


def op_argmax(x, dim=None, keepdim=False):
    r = torch.argmax(x) if dim is None else torch.argmax(x, dim, keepdim=keepdim)
    return r.to(torch.float32)


def compare(fn):
    return lambda a, b: fn(a, b).to(torch.float32)


def op_squeeze(x, dim=None):
    return x.squeeze() if dim is None else x.squeeze(dim)


def op_slice(x, dim, start, end, step=1):
    index = [slice(None)] * x.dim()
    index[dim] = slice(start, end, step)
    return x[tuple(index)]


def op_linear(x, weight, bias=None):
    return F.linear(x, weight, bias)


def op_cross_entropy(logits, targets, reduction="mean", label_smoothing=0.0):
    return F.cross_entropy(logits, targets.to(torch.int64), reduction=reduction, label_smoothing=label_smoothing)


OPS = {
    # 02: elementwise with broadcasting
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
    "neg": torch.neg, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt,
    "pow": lambda x, exponent: torch.pow(x, exponent),
    "pow_tensor": torch.pow,
    "eq": compare(torch.eq), "ne": compare(torch.ne), "lt": compare(torch.lt),
    "le": compare(torch.le), "gt": compare(torch.gt), "ge": compare(torch.ge),
    # 02: reductions
    "sum": op_sum, "mean": op_mean, "max": op_max, "argmax": op_argmax,
    # 02: views
    "reshape": lambda x, shape: x.reshape(shape),
    "view": lambda x, shape: x.view(shape),
    "transpose": lambda x, dim0, dim1: x.transpose(dim0, dim1),
    "t": lambda x: x.t(),
    "permute": lambda x, dims: x.permute(*dims),
    "slice": op_slice,
    "select": lambda x, dim, index: x.select(dim, index),
    "squeeze": op_squeeze,
    "unsqueeze": lambda x, dim: x.unsqueeze(dim),
    "expand": lambda x, shape: x.expand(*shape),
    "flatten": lambda x, start_dim=0, end_dim=-1: x.flatten(start_dim, end_dim),
    "contiguous": lambda x: x.contiguous(),
    "clone": lambda x: x.clone(),
    # 02: matmul, factories
    "matmul": torch.matmul,
    "arange": lambda start, end, step: torch.arange(start, end, step, dtype=torch.float32),
    # 03
    "relu": F.relu,
    "leaky_relu": lambda x, negative_slope=0.01: F.leaky_relu(x, negative_slope),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": lambda x, approximate="none": F.gelu(x, approximate=approximate),
    "softmax": lambda x, dim: F.softmax(x, dim),
    "log_softmax": lambda x, dim: F.log_softmax(x, dim),
    # 04
    "linear": op_linear,
    # 05
    "mse_loss": lambda a, b, reduction="mean": F.mse_loss(a, b, reduction=reduction),
    "cross_entropy": op_cross_entropy,
    "binary_cross_entropy": lambda p, y, reduction="mean": F.binary_cross_entropy(p, y, reduction=reduction),
    "binary_cross_entropy_with_logits":
        lambda x, y, reduction="mean": F.binary_cross_entropy_with_logits(x, y, reduction=reduction),
}


def gradients(op, args, inputs, weight):
    """d sum(op(inputs) * weight) / d leaf for every input: a list of {shape, values} or None."""
    leaves = [spec.base.clone().requires_grad_(spec.grad) for spec in inputs]
    out = OPS[op](*[apply_view(leaf, spec.view) for leaf, spec in zip(leaves, inputs)], **args)
    wanted = [leaf for leaf, spec in zip(leaves, inputs) if spec.grad]
    grads = iter(torch.autograd.grad(out, wanted, grad_outputs=weight, allow_unused=True))
    result = []
    for leaf, spec in zip(leaves, inputs):
        if not spec.grad:
            result.append(None)
            continue
        g = next(grads)
        result.append(encode(torch.zeros_like(leaf) if g is None else g))
    return result


def values_of(encoded):
    flat = [float(v) for v in encoded["values"]]
    return torch.tensor(flat, dtype=torch.float32).reshape(encoded["shape"])


def add(name, module, op, inputs, args=None, atol=None, rtol=None, note=None, engine=None, engine_inputs=None,
        deviation=None):
    """Runs `op` in PyTorch on `inputs` and records the case (output or error, and gradients).

    A documented deviation gives `engine`, the output the engine is specified to give, and
    `engine_inputs`, finite stand-ins for the inputs on which PyTorch's gradients are the engine's
    (e.g. -1e30 for -inf: the limit the engine's rule is defined by)."""
    args = dict(args or {})
    assert all(c["name"] != name for c in CASES), name
    case = {"name": name, "module": module, "op": op, "args": args, "inputs": []}
    leaves, seen = [], []
    for spec in inputs:
        leaf = spec.base.clone().requires_grad_(spec.grad)
        leaves.append(leaf)
        seen.append(apply_view(leaf, spec.view))
        entry = encode(spec.base)
        entry["view"] = spec.view
        entry["grad"] = spec.grad
        case["inputs"].append(entry)
    try:
        out = OPS[op](*seen, **args)
    except (RuntimeError, IndexError, ValueError) as error:
        case["error"] = str(error).split("\n")[0]
        CASES.append(case)
        return case
    case["output"] = encode(out)
    if any(spec.grad for spec in inputs) and out.requires_grad:
        weight = uniform(tuple(out.shape), -1.0, 1.0)
        case["grad_output"] = encode(weight)
        case["grads"] = gradients(op, args, inputs, weight)
    if atol is not None:
        case["atol"] = atol
    if rtol is not None:
        case["rtol"] = rtol
    if note:
        case["note"] = note
    if engine is not None:
        case["engine"] = {"output": encode(engine), "deviation": deviation}
        if "grads" in case:
            case["engine"]["grads"] = gradients(op, args, engine_inputs, values_of(case["grad_output"]))
    CASES.append(case)
    return case


# ---------------------------------------------------------------------------------------------
# Module 02: tensors
# ---------------------------------------------------------------------------------------------

def tensor_cases():
    # Elementwise binary ops: every broadcasting pattern, 0-d, zero-size, non-contiguous operands.
    shapes = [
        ("same (2, 3)", (2, 3), (2, 3)),
        ("broadcast (2, 1, 3) and (4, 3)", (2, 1, 3), (4, 3)),
        ("broadcast (3, 1) and (1, 4)", (3, 1), (1, 4)),
        ("broadcast (4,) and (2, 3, 4)", (4,), (2, 3, 4)),
        ("0-d and (2, 3)", (), (2, 3)),
        ("0-d and 0-d", (), ()),
        ("zero-size (0, 3) and (1, 3)", (0, 3), (1, 3)),
        ("zero-size (2, 0) and (2, 1)", (2, 0), (2, 1)),
    ]
    for op in ["add", "sub", "mul", "div"]:
        for label, sa, sb in shapes:
            b = uniform(sb, 0.5, 2.0) if op == "div" else uniform(sb)
            add(f"{op}: {label}", "02", op, [In(uniform(sa)), In(b)])
        add(f"{op}: transposed (3, 4) and sliced with step 2", "02", op,
            [In(uniform((4, 3)), [["t"]]), In(uniform((3, 8), 0.5, 2.0), [["slice", 1, 0, 8, 2]])])
        add(f"{op}: expanded row and permuted (2, 3, 4)", "02", op,
            [In(uniform((1, 4)), [["expand", [3, 4]]]), In(uniform((4, 2, 3), 0.5, 2.0), [["permute", [1, 2, 0]]])])
        add(f"{op}: NaN, infinities, huge and tiny magnitudes", "02", op,
            [In(values([NAN, INF, -INF, INF, 3e38, 1e-30, -1e-38, 1e30, 0.0, -0.0])),
             In(values([1.0, INF, INF, 2.0, 3e38, 1e30, 1e-5, 1e-30, 0.0, 2.0]))])
    add("add: mismatched shapes (2, 3) and (4, 3) is an error", "02", "add", [In(uniform((2, 3))), In(uniform((4, 3)))])
    add("mul: mismatched shapes (2, 3) and (2,) is an error", "02", "mul", [In(uniform((2, 3))), In(uniform((2,)))])

    # Unary ops: ordinary values, edge values, non-contiguous.
    add("neg: (2, 3) transposed", "02", "neg", [In(uniform((3, 2)), [["t"]])])
    add("neg: NaN and infinities", "02", "neg", [In(values([NAN, INF, -INF, 0.0, 1e-40]))])
    add("exp: (3, 4)", "02", "exp", [In(uniform((3, 4), -5, 5))])
    add("exp: overflow, underflow, infinities, NaN", "02", "exp",
        [In(values([88.0, 89.0, -87.0, -104.0, -110.0, INF, -INF, NAN, 0.0]))])
    add("exp: 0-d", "02", "exp", [In(values(1.5))])
    add("exp: zero-size (3, 0)", "02", "exp", [In(torch.zeros(3, 0))])
    add("log: (2, 5) positive", "02", "log", [In(uniform((2, 5), 0.01, 10))])
    add("log: zero, negative, tiny, huge, infinities, NaN", "02", "log",
        [In(values([0.0, -1.0, 1e-38, 1e-45, 3e38, INF, -INF, NAN]))])
    add("log: sliced with step 3", "02", "log", [In(uniform((9,), 0.1, 5), [["slice", 0, 1, 9, 3]])])
    add("sqrt: (4, 3)", "02", "sqrt", [In(uniform((4, 3), 0.01, 9))])
    add("sqrt: zero, negative, infinity, NaN, tiny", "02", "sqrt", [In(values([0.0, -4.0, INF, NAN, 1e-40, 1e-30]))])
    for exponent in [2.0, 3.0, 0.5, -1.0, 0.0, 1.0, -2.5]:
        add(f"pow: exponent {exponent:g} of positive values", "02", "pow", [In(uniform((2, 3), 0.2, 3))],
            {"exponent": exponent})
    add("pow: exponent 2 of negative values, zero and NaN", "02", "pow", [In(values([-3.0, -0.5, 0.0, NAN, INF]))],
        {"exponent": 2.0})
    add("pow: exponent 0.5 of zero and negatives", "02", "pow", [In(values([0.0, -1.0, 4.0]))], {"exponent": 0.5})
    add("pow: exponent 0 of zero, NaN and infinity", "02", "pow", [In(values([0.0, NAN, INF, -2.0]))],
        {"exponent": 0.0})
    add("pow: exponent -1 of zero", "02", "pow", [In(values([0.0, -0.0, 2.0]))], {"exponent": -1.0})
    add("pow: exponent 3 of a transposed (2, 3)", "02", "pow", [In(uniform((3, 2)), [["t"]])], {"exponent": 3.0})
    add("pow_tensor: positive base, broadcast exponent", "02", "pow_tensor",
        [In(uniform((2, 3), 0.5, 2.0)), In(uniform((3,), -2, 2))])
    add("pow_tensor: 0-d exponent", "02", "pow_tensor", [In(uniform((4,), 0.5, 3.0)), In(values(1.5))])
    add("pow_tensor: negative base, whole exponents", "02", "pow_tensor",
        [In(values([-2.0, -3.0, -0.5, -1.0])), In(values([2.0, 3.0, -2.0, 0.0]))])
    add("pow_tensor: zero base", "02", "pow_tensor", [In(values([0.0, 0.0, 0.0, 0.0])), In(values([0.0, 2.0, 0.5, -1.0]))])

    # Comparisons: no gradient.
    a = values([[1.0, 2.0, NAN], [INF, -INF, 0.0]])
    b = values([1.0, 3.0, NAN])
    for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
        add(f"{op}: broadcast with NaN and infinities", "02", op, [In(a, grad=False), In(b, grad=False)])
        add(f"{op}: transposed and 0-d", "02", op, [In(values([[1.0, 2.0], [2.0, 0.0]]), [["t"]], grad=False),
                                                   In(values(2.0), grad=False)])

    # Reductions: whole tensor and every dim, keepdim both ways, non-contiguous, 0-d, zero-size.
    x3 = uniform((2, 3, 4))
    for op in ["sum", "mean", "max", "argmax"]:
        grad = op != "argmax"
        add(f"{op}: all of (2, 3, 4)", "02", op, [In(x3, grad=grad)])
        for dim in [0, 1, 2, -1]:
            for keepdim in [False, True]:
                add(f"{op}: (2, 3, 4) along dim {dim}{' keepdim' if keepdim else ''}", "02", op,
                    [In(x3, grad=grad)], {"dim": dim, "keepdim": keepdim})
        add(f"{op}: transposed (3, 4) along dim 0", "02", op, [In(uniform((4, 3)), [["t"]], grad=grad)], {"dim": 0})
        add(f"{op}: permuted (2, 3, 4) along dim 1 keepdim", "02", op,
            [In(uniform((3, 4, 2)), [["permute", [2, 0, 1]]], grad=grad)], {"dim": 1, "keepdim": True})
        add(f"{op}: expanded (3, 4) along dim 0", "02", op, [In(uniform((1, 4)), [["expand", [3, 4]]], grad=grad)],
            {"dim": 0})
        add(f"{op}: all of a 0-d tensor", "02", op, [In(values(-2.5), grad=grad)])
        add(f"{op}: 0-d tensor along dim 0", "02", op, [In(values(-2.5), grad=grad)], {"dim": 0})
        add(f"{op}: 0-d tensor along dim -1 keepdim", "02", op, [In(values(4.0), grad=grad)],
            {"dim": -1, "keepdim": True})
        add(f"{op}: all of zero-size (0, 3)", "02", op, [In(torch.zeros(0, 3), grad=grad)])
        add(f"{op}: zero-size (0, 3) along the empty dim 0", "02", op, [In(torch.zeros(0, 3), grad=grad)], {"dim": 0})
        add(f"{op}: zero-size (0, 3) along dim 1", "02", op, [In(torch.zeros(0, 3), grad=grad)], {"dim": 1})
        add(f"{op}: zero-size (2, 0) along dim 0 keepdim", "02", op, [In(torch.zeros(2, 0), grad=grad)],
            {"dim": 0, "keepdim": True})
        add(f"{op}: dim 3 of a 3-d tensor is an error", "02", op, [In(x3, grad=grad)], {"dim": 3})
        with_nan = values([[1.0, NAN, 3.0, 2.0], [INF, 1.0, -INF, 0.0], [-INF, -INF, -INF, -INF]])
        add(f"{op}: all of a (3, 4) with NaN and infinities", "02", op, [In(with_nan, grad=grad)])
        add(f"{op}: rows of a (3, 4) with NaN and infinities", "02", op, [In(with_nan, grad=grad)], {"dim": 1})
        add(f"{op}: columns of a (3, 4) with NaN and infinities", "02", op, [In(with_nan, grad=grad)], {"dim": 0})
        add(f"{op}: NaN first in its row", "02", op, [In(values([[NAN, 5.0, 1.0], [2.0, 7.0, NAN]]), grad=grad)],
            {"dim": 1})
        ties = values([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0]])
        add(f"{op}: ties along dim 1", "02", op, [In(ties, grad=grad)], {"dim": 1})
        add(f"{op}: ties over the whole tensor", "02", op, [In(ties, grad=grad)])
        huge = values([[3e38, 3e38, -1e30], [1e-30, -1e-45, 1e-38]])
        if op == "mean":
            # The exact means, rounded once: 2e38 fits a float although 3e38 + 3e38 does not.
            exact = torch.tensor([sum(map(float, row)) / 3 for row in huge], dtype=torch.float64).to(torch.float32)
            add("mean: huge values", "02", op, [In(huge)], {"dim": 1}, engine=exact, engine_inputs=[In(huge)],
                deviation="reductions.cpp: sums accumulate in double, so a mean of floats is finite whenever it fits "
                          "a float; PyTorch accumulates in float and overflows to inf")
        else:
            add(f"{op}: huge values", "02", op, [In(huge, grad=grad)], {"dim": 1})

    x4 = uniform((2, 3, 2, 3))
    for op in ["sum", "mean", "max", "argmax"]:
        add(f"{op}: 4-d (2, 3, 2, 3) along dim 1 keepdim", "02", op, [In(x4, grad=op != "argmax")], {"dim": 1, "keepdim": True})
    add("sum: 1000 elements", "02", "sum", [In(uniform((1000,), 0, 1))])
    add("mean: rows of (4, 250)", "02", "mean", [In(uniform((4, 250), -1, 1))], {"dim": 1})

    # Views (and their backward).
    x = uniform((2, 3, 4))
    add("reshape: (2, 3, 4) to (4, 6)", "02", "reshape", [In(x)], {"shape": [4, 6]})
    add("reshape: with -1", "02", "reshape", [In(x)], {"shape": [-1, 4]})
    add("reshape: of a transposed (3, 4) (copies)", "02", "reshape", [In(uniform((4, 3)), [["t"]])], {"shape": [12]})
    add("reshape: to 0-d", "02", "reshape", [In(values([7.0]))], {"shape": []})
    add("reshape: zero-size (0, 3) to (3, 0)", "02", "reshape", [In(torch.zeros(0, 3))], {"shape": [3, 0]})
    add("reshape: zero-size (0, 3) with -1 is an error", "02", "reshape", [In(torch.zeros(0, 3))], {"shape": [-1, 0]})
    add("reshape: wrong element count is an error", "02", "reshape", [In(x)], {"shape": [5, 5]})
    add("view: (2, 3, 4) to (6, 4)", "02", "view", [In(x)], {"shape": [6, 4]})
    add("view: of a transposed (3, 4) is an error", "02", "view", [In(uniform((4, 3)), [["t"]])], {"shape": [12]})
    add("view: of a transposed (2, 3, 4) keeping the split dims", "02", "view",
        [In(uniform((2, 4, 3)), [["transpose", 1, 2]])], {"shape": [2, 3, 2, 2]})
    add("transpose: dims 0 and 2", "02", "transpose", [In(x)], {"dim0": 0, "dim1": 2})
    add("transpose: negative dims", "02", "transpose", [In(x)], {"dim0": -1, "dim1": -2})
    add("t: (3, 4)", "02", "t", [In(uniform((3, 4)))])
    add("permute: (2, 0, 1)", "02", "permute", [In(x)], {"dims": [2, 0, 1]})
    add("permute: repeated dim is an error", "02", "permute", [In(x)], {"dims": [0, 0, 1]})
    add("slice: step 2 along dim 2", "02", "slice", [In(x)], {"dim": 2, "start": 0, "end": 4, "step": 2})
    add("slice: negative start and end past the size", "02", "slice", [In(x)], {"dim": 1, "start": -2, "end": 10, "step": 1})
    add("slice: empty range", "02", "slice", [In(x)], {"dim": 0, "start": 1, "end": 1, "step": 1})
    add("slice: start past the end", "02", "slice", [In(x)], {"dim": 2, "start": 7, "end": 9, "step": 1})
    add("slice: of a transposed tensor with step 3", "02", "slice", [In(uniform((7, 2)), [["t"]])],
        {"dim": 1, "start": 1, "end": 7, "step": 3})
    add("select: dim 1 index 2", "02", "select", [In(x)], {"dim": 1, "index": 2})
    add("select: negative index", "02", "select", [In(x)], {"dim": -1, "index": -1})
    add("select: index out of range is an error", "02", "select", [In(x)], {"dim": 0, "index": 2})
    add("squeeze: every size-1 dim", "02", "squeeze", [In(uniform((1, 3, 1, 2)))])
    add("squeeze: one dim", "02", "squeeze", [In(uniform((1, 3, 1, 2)))], {"dim": 2})
    add("squeeze: a dim that is not 1 (no change)", "02", "squeeze", [In(uniform((1, 3, 1, 2)))], {"dim": 1})
    add("squeeze: 0-d", "02", "squeeze", [In(values(3.0))])
    add("unsqueeze: dim 1", "02", "unsqueeze", [In(uniform((2, 3)))], {"dim": 1})
    add("unsqueeze: dim -1", "02", "unsqueeze", [In(uniform((2, 3)))], {"dim": -1})
    add("unsqueeze: 0-d", "02", "unsqueeze", [In(values(3.0))], {"dim": 0})
    add("expand: (3, 1) to (2, 3, 4)", "02", "expand", [In(uniform((3, 1)))], {"shape": [2, 3, 4]})
    add("expand: with -1", "02", "expand", [In(uniform((3, 1)))], {"shape": [-1, 5]})
    add("expand: 0-d to (2, 2)", "02", "expand", [In(values(1.5))], {"shape": [2, 2]})
    add("expand: size 2 to 3 is an error", "02", "expand", [In(uniform((2, 1)))], {"shape": [3, 4]})
    add("flatten: all", "02", "flatten", [In(x)])
    add("flatten: dims 1 to 2 of a transposed tensor", "02", "flatten", [In(uniform((2, 4, 3)), [["transpose", 1, 2]])],
        {"start_dim": 1, "end_dim": 2})
    add("flatten: 0-d", "02", "flatten", [In(values(2.0))])
    add("contiguous: of a permuted tensor", "02", "contiguous", [In(x, [["permute", [1, 2, 0]]])])
    add("clone: of a sliced tensor", "02", "clone", [In(uniform((4, 6)), [["slice", 1, 1, 6, 2]])])

    # matmul: 2-d, batched with broadcasting, non-contiguous, zero-size, NaN and infinities.
    mm = [
        ("(3, 4) @ (4, 2)", (3, 4), (4, 2), [], []),
        ("(1, 5) @ (5, 1)", (1, 5), (5, 1), [], []),
        ("(2, 3, 4) @ (4, 5)", (2, 3, 4), (4, 5), [], []),
        ("(3, 4) @ (2, 4, 5)", (3, 4), (2, 4, 5), [], []),
        ("(2, 1, 3, 4) @ (3, 4, 2)", (2, 1, 3, 4), (3, 4, 2), [], []),
        ("(2, 3, 4) @ (2, 4, 3)", (2, 3, 4), (2, 4, 3), [], []),
        ("transposed (3, 4) @ sliced (4, 2)", (4, 3), (4, 4), [["t"]], [["slice", 1, 0, 4, 2]]),
        ("(2, 3, 4) @ batch-transposed (2, 4, 3)", (2, 3, 4), (2, 3, 4), [], [["transpose", 1, 2]]),
        ("expanded (3, 4) @ (4, 2)", (1, 4), (4, 2), [["expand", [3, 4]]], []),
        ("zero-size inner dim (2, 0) @ (0, 3)", (2, 0), (0, 3), [], []),
        ("zero-size rows (0, 3) @ (3, 2)", (0, 3), (3, 2), [], []),
        ("zero-size batch (0, 2, 3) @ (3, 2)", (0, 2, 3), (3, 2), [], []),
    ]
    for label, sa, sb, va, vb in mm:
        add(f"matmul: {label}", "02", "matmul", [In(uniform(sa), va), In(uniform(sb), vb)])
    add("matmul: NaN and infinities", "02", "matmul",
        [In(values([[INF, 1.0], [NAN, 0.0], [1e30, 1e30]])), In(values([[0.0, 1.0, 2.0], [2.0, 0.0, 1e10]]))])
    add("matmul: larger (8, 64) @ (64, 16)", "02", "matmul", [In(uniform((8, 64))), In(uniform((64, 16)))], atol=2e-5,
        note="64-term dot products of terms up to 4: two float summation orders differ by up to ~1e-5 absolute")
    add("matmul: inner dims 3 and 4 is an error", "02", "matmul", [In(uniform((2, 3))), In(uniform((4, 5)))])
    add("matmul: batch dims 2 and 3 is an error", "02", "matmul", [In(uniform((2, 2, 3))), In(uniform((3, 3, 2)))])

    # arange: the number of elements is ceil((end - start) / step), computed from the float arguments.
    for start, end, step in [(0, 5, 1), (0, 2.5, 1), (1, 2.5, 0.5), (0, 1, 0.1), (0, 0.3, 0.1), (1, 1.3, 0.1),
                             (-1, 1, 0.3), (5, 0, -1), (0, -1, -0.25), (0, 0, 1), (0, 10, 3), (0, 1.0000001, 0.25)]:
        s, e, st = (float(torch.tensor(v, dtype=torch.float32)) for v in (start, end, step))
        add(f"arange: ({start:g}, {end:g}, {step:g})", "02", "arange", [], {"start": s, "end": e, "step": st})
    add("arange: (5, 1, 1) is an error", "02", "arange", [], {"start": 5.0, "end": 1.0, "step": 1.0})
    add("arange: step 0 is an error", "02", "arange", [], {"start": 0.0, "end": 1.0, "step": 0.0})


# ---------------------------------------------------------------------------------------------
# Module 03: activations
# ---------------------------------------------------------------------------------------------

def activation_cases():
    edge = values([NAN, INF, -INF, 1000.0, -1000.0, 88.0, -88.0, 20.0, -20.0, 1e-8, -1e-8, 1e-30, 0.0, -0.0, 3e38, -3e38])
    ordinary = uniform((3, 4), -4, 4)
    ops = [("relu", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
           ("leaky_relu", {"negative_slope": 3.0}), ("sigmoid", {}), ("tanh", {}), ("gelu", {}),
           ("gelu", {"approximate": "tanh"})]
    for op, args in ops:
        label = op + "".join(f" {k}={v}" for k, v in args.items())
        add(f"{label}: (3, 4)", "03", op, [In(ordinary)], args)
        add(f"{label}: transposed (4, 3)", "03", op, [In(ordinary, [["t"]])], args)
        add(f"{label}: expanded row", "03", op, [In(uniform((1, 3), -3, 3), [["expand", [2, 3]]])], args)
        add(f"{label}: 0-d", "03", op, [In(values(-0.75))], args)
        add(f"{label}: zero-size (2, 0)", "03", op, [In(torch.zeros(2, 0))], args)
        add(f"{label}: NaN, infinities, huge and tiny values", "03", op, [In(edge)], args)
        add(f"{label}: near zero (relative precision)", "03", op,
            [In(values([1e-3, -1e-3, 3e-6, -2.5e-4, 0.1, -0.1, 1e-8, -1e-8, 1e-30, -1e-30]))], args, atol=0.0,
            note="no absolute slack: near 0 the answer (tanh(1e-8) = 1e-8) is as representable as any other, "
                 "and PyTorch returns it to float precision")
    # gelu far in the negative tail: exact gelu(-5) = -1.43e-6, far below the absolute tolerance
    add("gelu: negative tail", "03", "gelu", [In(values([-3.0, -5.0, -7.0, -10.0, -30.0]))])
    add("gelu approximate=tanh: negative tail", "03", "gelu", [In(values([-3.0, -5.0, -7.0, -10.0, -30.0]))],
        {"approximate": "tanh"})

    x3 = uniform((2, 3, 4), -3, 3)
    for op in ["softmax", "log_softmax"]:
        for dim in [0, 1, 2, -1, -2, -3]:
            add(f"{op}: (2, 3, 4) along dim {dim}", "03", op, [In(x3)], {"dim": dim})
        add(f"{op}: transposed (4, 3) along dim 0", "03", op, [In(uniform((3, 4), -3, 3), [["t"]])], {"dim": 0})
        add(f"{op}: 4-d (2, 3, 2, 3) along dim 1", "03", op, [In(uniform((2, 3, 2, 3), -3, 3))], {"dim": 1})
        add(f"{op}: permuted (2, 3, 4) along dim 1", "03", op, [In(uniform((4, 2, 3), -3, 3), [["permute", [1, 2, 0]]])],
            {"dim": 1})
        add(f"{op}: sliced (3, 4) along dim 1", "03", op, [In(uniform((3, 8), -3, 3), [["slice", 1, 1, 8, 2]])],
            {"dim": 1})
        add(f"{op}: expanded column along dim 0", "03", op, [In(uniform((1, 3), -3, 3), [["expand", [4, 3]]])], {"dim": 0})
        add(f"{op}: 0-d along dim 0", "03", op, [In(values(2.5))], {"dim": 0})
        add(f"{op}: size-1 dim", "03", op, [In(uniform((3, 1)))], {"dim": 1})
        add(f"{op}: zero-size rows (0, 3)", "03", op, [In(torch.zeros(0, 3))], {"dim": 1})
        add(f"{op}: zero-size dim (3, 0) along it", "03", op, [In(torch.zeros(3, 0))], {"dim": 1})
        add(f"{op}: zero-size (2, 0, 3) along dim 2", "03", op, [In(torch.zeros(2, 0, 3))], {"dim": 2})
        add(f"{op}: logits of +-1000", "03", op, [In(values([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -1001.0],
                                                             [1000.0, -1000.0, 0.0]]))], {"dim": 1})
        add(f"{op}: logits of +-1000 along dim 0", "03", op, [In(values([[1000.0, -1000.0], [0.0, -999.0]]))], {"dim": 0})
        add(f"{op}: logits near 1e8", "03", op, [In(values([[1e8, 1e8], [1e8, 1e8 + 8], [-1e8, -1e8 - 16]]))], {"dim": 1})
        add(f"{op}: tiny probabilities", "03", op, [In(values([[0.0, -80.0, -30.0], [-20.0, 60.0, 0.0]]))], {"dim": 1},
            atol=0.0 if op == "softmax" else None,
            note="softmax: no absolute slack, e^-80 = 1.8e-35 keeps its relative precision" if op == "softmax" else None)
        add(f"{op}: -inf entries (masks)", "03", op, [In(values([[0.0, -INF, 1.0], [-INF, 2.0, 2.0], [-INF, -INF, 5.0]]))],
            {"dim": 1})
        add(f"{op}: NaN in a row", "03", op, [In(values([[1.0, NAN, 2.0], [0.0, 1.0, 2.0]]))], {"dim": 1})
        add(f"{op}: dim out of range is an error", "03", op, [In(x3)], {"dim": 3})
        # Documented deviations (activations.cpp): a slice of only -inf is uniform, a +inf max is
        # shared evenly by the entries that reach it; PyTorch gives NaN for both.
        all_masked = values([[-INF, -INF, -INF, -INF], [0.0, -INF, 0.0, -INF]])
        uniform_rows = values([[0.25, 0.25, 0.25, 0.25], [0.5, 0.0, 0.5, 0.0]])
        add(f"{op}: a row of only -inf", "03", op, [In(all_masked)], {"dim": 1},
            engine=uniform_rows if op == "softmax" else torch.log(uniform_rows),
            engine_inputs=[In(torch.nan_to_num(all_masked, neginf=-1e30))],
            deviation="activations.h/.cpp: a slice of only -inf is the limit of equal logits (uniform, like masking "
                      "with -1e9), where PyTorch gives NaN")
        with_inf = values([[INF, 0.0, 1.0], [INF, INF, -INF]])
        shared = values([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
        add(f"{op}: +inf entries", "03", op, [In(with_inf)], {"dim": 1},
            engine=shared if op == "softmax" else torch.log(shared),
            engine_inputs=[In(torch.nan_to_num(with_inf, posinf=1e30, neginf=-1e30))],
            deviation="activations.cpp: a +inf max is shared evenly by the entries equal to it, where PyTorch "
                      "gives NaN (inf - inf)")


# ---------------------------------------------------------------------------------------------
# Module 04: Linear
# ---------------------------------------------------------------------------------------------

def layer_cases():
    for label, xs, inf_, outf, bias, view in [
        ("(5, 3) -> (5, 4)", (5, 3), 3, 4, True, []),
        ("(3,) -> (2,)", (3,), 3, 2, True, []),
        ("(2, 4, 3) -> (2, 4, 5)", (2, 4, 3), 3, 5, True, []),
        ("without bias (4, 6) -> (4, 2)", (4, 6), 6, 2, False, []),
        ("transposed input (3, 4) -> (3, 2)", (4, 3), 4, 2, True, [["t"]]),
        ("sliced input", (4, 6), 3, 3, True, [["slice", 1, 0, 6, 2]]),
        ("zero-size batch (0, 3)", (0, 3), 3, 2, True, []),
    ]:
        bound = 1 / math.sqrt(inf_)
        inputs = [In(uniform(xs), view), In(uniform((outf, inf_), -bound, bound))]
        if bias:
            inputs.append(In(uniform((outf,), -bound, bound)))
        add(f"linear: {label}", "04", "linear", inputs)
    add("linear: wrong feature count is an error", "04", "linear",
        [In(uniform((2, 3))), In(uniform((2, 4))), In(uniform((2,)))])


# ---------------------------------------------------------------------------------------------
# Module 05: losses
# ---------------------------------------------------------------------------------------------

def loss_cases():
    reductions = ["mean", "sum", "none"]
    for r in reductions:
        add(f"mse_loss {r}: (3, 4)", "05", "mse_loss", [In(uniform((3, 4))), In(uniform((3, 4)))], {"reduction": r})
        add(f"mse_loss {r}: transposed and sliced", "05", "mse_loss",
            [In(uniform((4, 3)), [["t"]]), In(uniform((3, 8)), [["slice", 1, 0, 8, 2]])], {"reduction": r})
        add(f"mse_loss {r}: 0-d", "05", "mse_loss", [In(values(3.0)), In(values(1.0))], {"reduction": r})
        add(f"mse_loss {r}: zero-size", "05", "mse_loss", [In(torch.zeros(0, 2)), In(torch.zeros(0, 2))], {"reduction": r})
        add(f"mse_loss {r}: NaN and infinities", "05", "mse_loss",
            [In(values([NAN, INF, 1e20, 1.0])), In(values([0.0, 1.0, -1e20, INF]))], {"reduction": r})

    logits = uniform((5, 4), -3, 3)
    targets = values([3, 0, 1, 1, 2])
    for r in reductions:
        for s in [0.0, 0.1, 0.25, 1.0]:
            add(f"cross_entropy {r} smoothing {s:g}: (5, 4)", "05", "cross_entropy",
                [In(logits), In(targets, grad=False)], {"reduction": r, "label_smoothing": s})
        add(f"cross_entropy {r}: one example (C,) and a 0-d target", "05", "cross_entropy",
            [In(uniform((4,), -2, 2)), In(values(2.0), grad=False)], {"reduction": r})
        add(f"cross_entropy {r}: transposed logits, sliced targets", "05", "cross_entropy",
            [In(uniform((4, 3), -2, 2), [["t"]]), In(values([2, 9, 0, 9, 3]), [["slice", 0, 0, 5, 2]], grad=False)],
            {"reduction": r})
        add(f"cross_entropy {r}: logits of +-1000", "05", "cross_entropy",
            [In(values([[1000.0, 0.0, -1000.0]] * 3 + [[-1000.0, -1000.0, -1000.0]])),
             In(values([0, 1, 2, 1]), grad=False)], {"reduction": r})
        add(f"cross_entropy {r} smoothing 0.2: logits of +-1000", "05", "cross_entropy",
            [In(values([[1000.0, 0.0, -1000.0], [0.0, 1000.0, -1000.0]])), In(values([0, 0]), grad=False)],
            {"reduction": r, "label_smoothing": 0.2})
        add(f"cross_entropy {r}: -inf logits on wrong classes", "05", "cross_entropy",
            [In(values([[0.0, -INF, 0.0], [-INF, 1.0, 0.0]])), In(values([0, 1]), grad=False)], {"reduction": r})
        add(f"cross_entropy {r}: -inf logit on the target class", "05", "cross_entropy",
            [In(values([[0.0, -INF, 0.0]])), In(values([1]), grad=False)], {"reduction": r})
        add(f"cross_entropy {r}: NaN logit", "05", "cross_entropy",
            [In(values([[0.0, NAN, 1.0], [1.0, 2.0, 3.0]])), In(values([0, 2]), grad=False)], {"reduction": r})
        add(f"cross_entropy {r}: empty batch (0, 3)", "05", "cross_entropy",
            [In(torch.zeros(0, 3)), In(torch.zeros(0), grad=False)], {"reduction": r})
    add("cross_entropy: target equal to C is an error", "05", "cross_entropy",
        [In(uniform((2, 3))), In(values([3, 0]), grad=False)])
    add("cross_entropy: negative target is an error", "05", "cross_entropy",
        [In(uniform((2, 3))), In(values([1, -1]), grad=False)])
    add("cross_entropy: label smoothing 1.5 is an error", "05", "cross_entropy",
        [In(uniform((2, 3))), In(values([1, 0]), grad=False)], {"label_smoothing": 1.5})
    add("cross_entropy: targets of the wrong shape is an error", "05", "cross_entropy",
        [In(uniform((2, 3))), In(values([1, 0, 2]), grad=False)])

    p = uniform((3, 4), 0.05, 0.95)
    y = uniform((3, 4), 0.0, 1.0)
    for r in reductions:
        add(f"binary_cross_entropy {r}: (3, 4) soft targets", "05", "binary_cross_entropy",
            [In(p), In(y, grad=False)], {"reduction": r})
        add(f"binary_cross_entropy {r}: transposed probabilities", "05", "binary_cross_entropy",
            [In(uniform((4, 3), 0.05, 0.95), [["t"]]), In(uniform((3, 4), 0, 1), grad=False)], {"reduction": r})
        add(f"binary_cross_entropy {r}: probabilities 0 and 1 (logs clamped at -100)", "05", "binary_cross_entropy",
            [In(values([0.0, 1.0, 0.0, 1.0, 0.0])), In(values([1.0, 0.0, 0.0, 1.0, 0.3]), grad=False)], {"reduction": r})
        add(f"binary_cross_entropy {r}: tiny and nearly-1 probabilities", "05", "binary_cross_entropy",
            [In(values([1e-9, 1e-7, 1e-30, 0.9999999, 1e-45])), In(values([0.0, 1.0, 1.0, 0.0, 1.0]), grad=False)],
            {"reduction": r})
        add(f"binary_cross_entropy {r}: targets outside [0, 1] are not checked", "05", "binary_cross_entropy",
            [In(values([0.5, 0.25, 0.75])), In(values([1.5, -1.0, 2.0]), grad=False)], {"reduction": r})
        add(f"binary_cross_entropy {r}: 0-d", "05", "binary_cross_entropy",
            [In(values(0.25)), In(values(1.0), grad=False)], {"reduction": r})
        add(f"binary_cross_entropy {r}: zero-size", "05", "binary_cross_entropy",
            [In(torch.zeros(2, 0)), In(torch.zeros(2, 0), grad=False)], {"reduction": r})
        add(f"binary_cross_entropy {r}: NaN target", "05", "binary_cross_entropy",
            [In(values([0.5, 0.5])), In(values([NAN, 1.0]), grad=False)], {"reduction": r})
    add("binary_cross_entropy: NaN probability is an error", "05", "binary_cross_entropy",
        [In(values([0.5, NAN, 0.25])), In(values([1.0, 0.0, 1.0]), grad=False)])
    add("binary_cross_entropy: probability 1.5 is an error", "05", "binary_cross_entropy",
        [In(values([0.5, 1.5])), In(values([1.0, 0.0]), grad=False)])
    add("binary_cross_entropy: probability -inf is an error", "05", "binary_cross_entropy",
        [In(values([-INF, 0.5])), In(values([1.0, 0.0]), grad=False)])
    add("binary_cross_entropy: shapes (2, 1) and (2,) is an error", "05", "binary_cross_entropy",
        [In(values([[0.5], [0.5]])), In(values([1.0, 0.0]), grad=False)])

    x = uniform((3, 4), -4, 4)
    for r in reductions:
        add(f"binary_cross_entropy_with_logits {r}: (3, 4)", "05", "binary_cross_entropy_with_logits",
            [In(x), In(y, grad=False)], {"reduction": r})
        add(f"binary_cross_entropy_with_logits {r}: permuted logits", "05", "binary_cross_entropy_with_logits",
            [In(uniform((2, 3, 2), -3, 3), [["permute", [2, 0, 1]]]), In(uniform((2, 2, 3), 0, 1), grad=False)],
            {"reduction": r})
        add(f"binary_cross_entropy_with_logits {r}: logits of +-1000 and +-inf", "05", "binary_cross_entropy_with_logits",
            [In(values([1000.0, -1000.0, 1000.0, -1000.0, 200.0, -200.0, INF, -INF])),
             In(values([1.0, 0.0, 0.0, 1.0, 0.0, 0.5, 1.0, 0.0]), grad=False)], {"reduction": r})
        add(f"binary_cross_entropy_with_logits {r}: confident logits (precision)", "05",
            "binary_cross_entropy_with_logits",
            [In(values([-30.0, 20.0, -90.0, 1e-8])), In(values([0.0, 1.0, 0.0, 1.0]), grad=False)], {"reduction": r})
        add(f"binary_cross_entropy_with_logits {r}: NaN logit", "05", "binary_cross_entropy_with_logits",
            [In(values([NAN, 1.0])), In(values([1.0, 0.0]), grad=False)], {"reduction": r})
        add(f"binary_cross_entropy_with_logits {r}: zero-size", "05", "binary_cross_entropy_with_logits",
            [In(torch.zeros(0)), In(torch.zeros(0), grad=False)], {"reduction": r})
    add("binary_cross_entropy_with_logits: shapes (3,) and (1, 3) is an error", "05",
        "binary_cross_entropy_with_logits", [In(uniform((3,))), In(uniform((1, 3), 0, 1), grad=False)])


def main():
    # Each section draws from its own seed: adding a case changes only its own section's values.
    for seed, section in enumerate([tensor_cases, activation_cases, layer_cases, loss_cases]):
        _gen.manual_seed(20240601 + seed)
        section()
    document = {
        "generator": "tests/engine/pytorch/generate_cases.py",
        "torch_version": torch.__version__,
        "default_atol": 1e-6,
        "default_rtol": 1e-5,
        "cases": CASES,
    }
    # One case per line: a regenerated file diffs case by case.
    head = json.dumps({k: v for k, v in document.items() if k != "cases"}, allow_nan=False)[:-1]
    lines = [json.dumps(c, separators=(",", ":"), allow_nan=False) for c in CASES]
    with open(OUT, "w") as f:
        f.write(head + ',\n"cases":[\n' + ",\n".join(lines) + "\n]}\n")
    print(f"{len(CASES)} cases, {os.path.getsize(OUT)} bytes -> {OUT}")


if __name__ == "__main__":
    main()
