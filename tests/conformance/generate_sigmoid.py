#!/usr/bin/env python3
# Writes the golden file of shapeguard's sigmoid cross-entropy conformance suite,
# tests/data/conformance_sigmoid.txt.
#
# Regenerate (from the repository root, with Debian 12's python3-torch and python3-numpy):
#
#     /usr/bin/python3 tests/conformance/generate_sigmoid.py
#
# (--out DIR --seed-offset K writes the same cases with other random inputs elsewhere: a fresh
# set to run the C++ test against, built with -DSHAPEGUARD_TEST_DATA_DIR=DIR.)
#
# The output is deterministic (fixed seeds), so regenerating with the same torch version gives
# the same file. CI never runs this script: tests/test_sigmoid_conformance.cpp reads the
# committed file.
#
# Every reference is torch.nn.functional.binary_cross_entropy_with_logits in float64. Logits,
# targets, class weights, pos_weight and label smoothing are float32 values (targets are
# multiples of 2^-20 in [0, 1]), so the float32 run of the C++ test sees the very inputs of the
# float64 reference. Label smoothing is applied before torch, as t' = t (1 - eps) + eps / 2 in
# float64, with eps one of 0, 0.125, 0.25, 1 (exact) or 0.100000001490116 (the float32 of 0.1;
# t' is then not a float32 value in general, so the float path rounds it). Expected values are
# written with 13 significant digits (a relative rounding of at most 5e-14, far below the test's
# tolerances), which keeps the file near 500 KB.
#
# Groups of cases: opt_* (kind x reduction x weighting x smoothing, shapes [N], [N, 1], [N, C],
# [B, T, C]), classes_* (C in 1 2 3 7 8 9 15 16 17 31 33 64 100 1000), static_* ([6], [4, 7],
# [2, 3, 5], which the C++ test also runs with fully static extents), hard_* (|x| up to 1e4,
# logits exactly 0, the exp range edges, +-1e3 offsets, long sums), edge_* (empty tensors, the
# masked +-inf elements).
#
# File format (text, one record per line, values separated by single spaces):
#
#     # comment lines (the header: this command, the torch version)
#     case <name>
#     source torch|masked
#     shape <d0> ... <dk>          logits shape; the class axis is the last for rank >= 2, and
#                                  rank 1 ([N]) is N samples of ONE class
#     kind hard|soft               hard: every target is 0 or 1 (the C++ test also passes them
#                                  as int64, uint8 and bool labels); soft: targets in [0, 1]
#     reduction mean|sum|none
#     smoothing <value>            bce_options::label_smoothing, a hex float (float32)
#     class_weights - | <values>   one per class (1 value for rank 1), hex floats (float32)
#     pos_weight - | <values>      one per class (1 value for rank 1), hex floats (float32)
#     logits <values>              row-major, hex floats (float32 values), "inf" / "-inf"
#     targets <values>             row-major, hex floats (float32 values; hard: 0 or 1),
#                                  before label smoothing
#     loss <value>                 reduction mean/sum
#     losses <values>              reduction none: one per element (the logits' shape)
#     grad <values>                d loss / d logits (none: element e holds d loss_e / d x_e)
#     unit <value>                 the size of the terms the outputs are made of, for the test's
#                                  absolute error floor: max over elements of g * w_c *
#                                  max(1, p_c), g the gradient's scale (1 / element count for
#                                  mean, else 1), 0 for an empty tensor
#     end
#     ...
#     count <n>                    the last record: the number of cases above
#
# source torch: the expected values are torch's own results.
# source masked: torch gives NaN here, and shapeguard deliberately differs (the API's
#   Semantics): an empty tensor with mean gives loss 0; a +-inf logit whose term has
#   coefficient 0 contributes 0 (x = +inf with t' = 1, x = -inf with t' = 0: loss 0, gradient 0;
#   torch: 0 * inf = NaN). These expected values come from the documented formula
#       loss_e = w_c [ (1 - t') softplus(x) + p_c t' softplus(-x) ]
#       d loss_e / d x = w_c [ (1 - t') sigmoid(x) - p_c t' sigmoid(-x) ]
#   (a term whose coefficient is 0 dropped), evaluated in float64; the script checks that this
#   formula agrees with torch on every case, element by element, wherever torch is finite, and
#   that torch is non-finite exactly at the documented masked elements.

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import f32, hexf  # float32 rounding and hex floats: the softmax suite's, shared

COMMAND = "/usr/bin/python3 tests/conformance/generate_sigmoid.py"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
TARGET_BITS = 20  # soft targets are multiples of 2**-TARGET_BITS
SEED_OFFSET = 0

EPS_F32_01 = float(np.float32(0.1))  # 0.100000001490116...
SMOOTHINGS = (0.0, 0.125, EPS_F32_01, 1.0)

torch.set_default_dtype(torch.float64)


def dec(v):
    """An expected value: 13 significant digits (relative rounding error <= 5e-14, far below the
    test's tolerances: rtol 2e-5, and an absolute floor of 2e-11 * S for double)."""
    v = float(v)
    return "%.13g" % v if math.isfinite(v) else repr(v)


class Case:
    def __init__(self, name, shape, kind, reduction, logits, targets, smoothing=0.0,
                 class_weights=None, pos_weight=None):
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.kind = kind
        self.reduction = reduction
        self.logits = np.asarray(logits, dtype=np.float64).reshape(self.shape)
        self.targets = np.asarray(targets, dtype=np.float64).reshape(self.shape)
        self.smoothing = float(np.float32(smoothing))
        self.class_weights = None if class_weights is None else f32(class_weights)
        self.pos_weight = None if pos_weight is None else f32(pos_weight)
        C = self.classes()
        assert kind in ("hard", "soft") and reduction in ("mean", "sum", "none")
        assert np.array_equal(self.logits, f32(self.logits)), name
        assert np.array_equal(self.targets, f32(self.targets)), name
        assert np.all((self.targets >= 0) & (self.targets <= 1)), name
        if kind == "hard":
            assert np.all((self.targets == 0) | (self.targets == 1)), name
        assert 0.0 <= self.smoothing <= 1.0
        for w in (self.class_weights, self.pos_weight):
            if w is not None:
                assert w.shape == (C,), name
                assert np.all(np.isfinite(w) & (w >= 0)), name

    def classes(self):
        return 1 if len(self.shape) == 1 else self.shape[-1]

    def smoothed(self):
        eps = self.smoothing
        return self.targets * (1.0 - eps) + eps / 2.0

    def per_class(self, w):
        """A per-class vector broadcast to the logits' shape (ones when absent)."""
        if w is None:
            return np.ones(self.shape)
        return np.broadcast_to(w, self.shape) if len(self.shape) >= 2 else np.broadcast_to(
            w[0], self.shape)


def torch_reference(case):
    """torch's outputs for the case's reduction, and its per-element losses and gradients."""
    def run(reduction):
        x = torch.tensor(case.logits, requires_grad=True)
        t = torch.tensor(case.smoothed())
        w = None if case.class_weights is None else torch.tensor(case.class_weights)
        p = None if case.pos_weight is None else torch.tensor(case.pos_weight)
        out = F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=p,
                                                 reduction=reduction)
        (out.sum() if reduction == "none" else out).backward()
        return out.detach().numpy().copy(), x.grad.numpy().copy()
    out, grad = run(case.reduction)
    element_losses, element_grads = run("none")
    return out, grad, element_losses, element_grads


def softplus(x):
    with np.errstate(over="ignore"):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x):
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def coefficients(case):
    """a = w_c (1 - t') and b = w_c p_c t': loss_e = a softplus(x) + b softplus(-x)."""
    t = case.smoothed()
    w = case.per_class(case.class_weights)
    p = case.per_class(case.pos_weight)
    return w * (1.0 - t), w * p * t


def masked_positions(case):
    """The documented masked elements: x = +inf with t' = 1, x = -inf with t' = 0."""
    t = case.smoothed()
    return ((case.logits == np.inf) & (t == 1.0)) | ((case.logits == -np.inf) & (t == 0.0))


def formula(case):
    """The documented formula in float64: per-element losses and derivatives, reduced."""
    x = case.logits
    t = case.smoothed()
    w = case.per_class(case.class_weights)
    p = case.per_class(case.pos_weight)
    # the two terms; a term whose coefficient (1 - t' or p_c t') is 0 is dropped, as documented
    one_minus = 1.0 - t
    pt = p * t
    with np.errstate(invalid="ignore"):
        loss_a = np.where(one_minus != 0, one_minus * softplus(x), 0.0)
        loss_b = np.where(pt != 0, pt * softplus(-x), 0.0)
        grad_a = np.where(one_minus != 0, one_minus * sigmoid(x), 0.0)
        grad_b = np.where(pt != 0, pt * sigmoid(-x), 0.0)
    losses = w * (loss_a + loss_b)
    grads = w * (grad_a - grad_b)
    n = losses.size
    if case.reduction == "none":
        return losses, grads, losses, grads
    if case.reduction == "sum":
        return np.float64(losses.sum()), grads, losses, grads
    if n == 0:
        return np.float64(0.0), grads, losses, grads  # documented: an empty mean is 0
    return np.float64(losses.sum() / n), grads / n, losses, grads


def unit(case):
    n = int(np.prod(case.shape, dtype=np.int64))
    if n == 0:
        return 0.0
    g = 1.0 / n if case.reduction == "mean" else 1.0
    w = case.per_class(case.class_weights)
    p = case.per_class(case.pos_weight)
    return g * float(np.max(w * np.maximum(1.0, p)))


def finite(*arrays):
    return all(np.all(np.isfinite(a)) for a in arrays)


def close(a, b, rtol=1e-12):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return np.allclose(a, b, rtol=rtol, atol=rtol * scale)


def solve(case):
    """Expected outputs and their source; checks the documented formula against torch."""
    t_out, t_grad, t_losses, t_grads = torch_reference(case)
    m_out, m_grad, m_losses, m_grads = formula(case)
    assert finite(m_out, m_grad, m_losses, m_grads), case.name
    masked = masked_positions(case)
    # element by element: the formula is torch wherever torch is finite, and torch is
    # non-finite exactly where the API documents a deliberate difference
    ok = np.isfinite(t_losses)
    assert np.array_equal(~ok, masked), case.name
    assert close(m_losses[ok], t_losses[ok]), case.name
    okg = np.isfinite(t_grads)
    assert close(m_grads[okg], t_grads[okg]), case.name
    assert np.all(m_losses[masked] == 0) and np.all(m_grads[masked] == 0), case.name
    if finite(t_out, t_grad):
        assert close(m_out, t_out), case.name
        assert close(m_grad, t_grad), case.name
        return "torch", t_out, t_grad
    empty_mean = case.reduction == "mean" and case.logits.size == 0
    assert masked.any() or empty_mean, case.name
    return "masked", m_out, m_grad


def write_case(f, case):
    source, out, grad = solve(case)
    f.write("case %s\n" % case.name)
    f.write("source %s\n" % source)
    f.write("shape %s\n" % " ".join(str(d) for d in case.shape))
    f.write("kind %s\n" % case.kind)
    f.write("reduction %s\n" % case.reduction)
    f.write("smoothing %s\n" % hexf(case.smoothing))
    for key, w in (("class_weights", case.class_weights), ("pos_weight", case.pos_weight)):
        f.write("%s %s\n" % (key, "-" if w is None else " ".join(hexf(v) for v in w)))
    f.write("logits %s\n" % " ".join(hexf(v) for v in case.logits.reshape(-1)))
    if case.kind == "hard":
        f.write("targets %s\n" % " ".join(str(int(v)) for v in case.targets.reshape(-1)))
    else:
        f.write("targets %s\n" % " ".join(hexf(v) for v in case.targets.reshape(-1)))
    if case.reduction == "none":
        f.write("losses %s\n" % " ".join(dec(v) for v in np.asarray(out).reshape(-1)))
    else:
        f.write("loss %s\n" % dec(out))
    f.write("grad %s\n" % " ".join(dec(v) for v in grad.reshape(-1)))
    f.write("unit %s\n" % dec(unit(case)))
    f.write("end\n")
    return source


# ---- inputs ---------------------------------------------------------------------------------

class Inputs:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def logits(self, shape, scale=3.0, offset=0.0, zeros=0.0):
        x = f32(self.rng.standard_normal(shape) * scale + offset)
        if zeros > 0:
            x[self.rng.random(shape) < zeros] = 0.0
        return x

    def targets(self, shape, kind, extremes=0.15):
        if kind == "hard":
            return self.rng.integers(0, 2, size=shape).astype(np.float64)
        t = self.rng.integers(0, (1 << TARGET_BITS) + 1, size=shape) / float(1 << TARGET_BITS)
        if extremes > 0:  # some exact 0 and 1 targets among the soft ones
            r = self.rng.random(shape)
            t[r < extremes / 2] = 0.0
            t[(r >= extremes / 2) & (r < extremes)] = 1.0
        return t

    def class_weights(self, C, zeros=0):
        w = f32(self.rng.uniform(0.25, 3.0, size=C))
        if zeros:
            w[self.rng.choice(C, size=min(zeros, C), replace=False)] = 0.0
        return w

    def pos_weight(self, C, zeros=0):
        p = f32(np.exp(self.rng.uniform(np.log(0.2), np.log(8.0), size=C)))  # below and above 1
        if zeros:
            p[self.rng.choice(C, size=min(zeros, C), replace=False)] = 0.0
        return p


WEIGHTINGS = ("now", "cw", "pw", "cwpw")


def make_case(inp, name, shape, kind, reduction, eps=0.0, weighting="now", zero_weights=0,
              scale=3.0, offset=0.0, logits=None, targets=None, zeros=0.0):
    shape = tuple(shape)
    C = 1 if len(shape) == 1 else shape[-1]
    if logits is None:
        logits = inp.logits(shape, scale, offset, zeros)
    if targets is None:
        targets = inp.targets(shape, kind)
    cw = inp.class_weights(C, zero_weights) if weighting in ("cw", "cwpw") else None
    pw = inp.pos_weight(C, zero_weights) if weighting in ("pw", "cwpw") else None
    return Case(name, shape, kind, reduction, logits, targets, eps, cw, pw)


def eps_name(eps):
    return {0.0: "0", 0.125: "0.125", EPS_F32_01: "0.1f", 1.0: "1", 0.25: "0.25"}[eps]


def shape_for(inp, k):
    """Rotates through [N], [N, 1], [N, C] and [B, T, C]."""
    form = k % 4
    if form == 0:
        return (int(inp.rng.integers(1, 12)),)
    if form == 1:
        return (int(inp.rng.integers(1, 9)), 1)
    if form == 2:
        return (int(inp.rng.integers(1, 7)), int(inp.rng.integers(2, 13)))
    return (int(inp.rng.integers(1, 4)), int(inp.rng.integers(1, 5)), int(inp.rng.integers(2, 10)))


def options_cases():
    """Every combination: kind x reduction x weighting x smoothing, shapes rotating."""
    inp = Inputs(11 + SEED_OFFSET)
    cases = []
    k = 0
    for kind in ("hard", "soft"):
        for reduction in ("mean", "sum", "none"):
            for weighting in WEIGHTINGS:
                for eps in SMOOTHINGS:
                    shape = shape_for(inp, k)
                    name = "opt_%s_%s_%s_eps%s_%s" % (kind, reduction, weighting, eps_name(eps),
                                                      "x".join(map(str, shape)))
                    cases.append(make_case(inp, name, shape, kind, reduction, eps, weighting,
                                           zero_weights=int(k % 7 == 3)))
                    k += 1
    return cases


CLASS_COUNTS = (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1000)


def classes_cases():
    """[N, C] and [B, T, C] for every vector tail of 8 and 16 lanes, C = 100 and 1000."""
    inp = Inputs(12 + SEED_OFFSET)
    cases = []
    k = 0
    for C in CLASS_COUNTS:
        variants = 2 if C == 1000 else 3
        for v in range(variants):
            kind = ("hard", "soft")[k % 2]
            reduction = ("mean", "sum", "none")[(k + v) % 3]
            weighting = WEIGHTINGS[(k // 2) % 4]
            eps = SMOOTHINGS[(k // 3) % 4] if v != 0 else 0.0
            if C >= 1000:  # one soft, one hard case; the soft one's weights keep the file small
                kind = ("soft", "hard")[v]
                weighting = ("cw", "pw")[v]
            if C >= 1000:
                shape = (1, C) if v == 0 else (1, 1, C)
            elif C >= 64:
                shape = (2, C) if v == 0 else ((1, C) if v == 1 else (1, 2, C))
            else:
                shape = (int(inp.rng.integers(1, 5)), C) if v != 2 else (
                    2, int(inp.rng.integers(1, 3)), C)
            name = "classes_C%d_%s_%s_%s_%s_eps%s" % (C, "x".join(map(str, shape)), kind,
                                                      reduction, weighting, eps_name(eps))
            cases.append(make_case(inp, name, shape, kind, reduction, eps, weighting,
                                   zero_weights=int(k % 5 == 2), scale=float(1 + k % 4),
                                   zeros=0.05))
            k += 1
    return cases


def static_cases():
    """Shapes the C++ test also runs with fully static extents: [6], [4, 7], [2, 3, 5]."""
    inp = Inputs(13 + SEED_OFFSET)
    cases = []
    k = 0
    for shape in ((6,), (4, 7), (2, 3, 5)):
        for kind in ("hard", "soft"):
            for reduction in ("mean", "sum", "none"):
                weighting = WEIGHTINGS[k % 4]
                eps = SMOOTHINGS[(k // 2) % 4]
                name = "static_%s_%s_%s_%s_eps%s" % ("x".join(map(str, shape)), kind, reduction,
                                                     weighting, eps_name(eps))
                cases.append(make_case(inp, name, shape, kind, reduction, eps, weighting))
                k += 1
    return cases


def hard_cases():
    """|x| up to 1e4, exact zeros, the exp range edges, offsets, many elements."""
    inp = Inputs(14 + SEED_OFFSET)
    cases = []
    k = 0
    for kind in ("hard", "soft"):
        for reduction in ("mean", "sum", "none"):
            # huge logits: most terms are |x| or 0 up to rounding
            for eps, weighting in ((0.0, "now"), (EPS_F32_01, "cwpw"), (0.0, "pw")):
                shape = ((5, 7), (2, 3, 9), (13,))[k % 3]
                cases.append(make_case(inp, "hard_scale1e4_%s_%s_%s_eps%s_%s" % (
                    kind, reduction, weighting, eps_name(eps), "x".join(map(str, shape))),
                    shape, kind, reduction, eps, weighting, scale=1e4))
                k += 1
            # logits around where exp(-|x|) leaves float range and where sigmoid rounds to 1
            for eps, weighting, scale in ((0.0, "cw", 40.0), (0.125, "pw", 100.0)):
                shape = (3, 17) if k % 2 == 0 else (2, 1, 16)
                cases.append(make_case(inp, "hard_scale%d_%s_%s_%s_eps%s" % (
                    int(scale), kind, reduction, weighting, eps_name(eps)), shape, kind,
                    reduction, eps, weighting, scale=scale))
                k += 1
            # +-1e3 offsets
            for offset, eps, weighting in ((1e3, 0.0, "cwpw"), (-1e3, 0.25, "now")):
                shape = (4, 9) if k % 2 == 0 else (2, 2, 8)
                cases.append(make_case(inp, "hard_offset%+d_%s_%s_%s_eps%s" % (
                    int(offset), kind, reduction, weighting, eps_name(eps)), shape, kind,
                    reduction, eps, weighting, scale=2.0, offset=offset))
                k += 1
            # every logit exactly 0, and half of them 0
            for frac, eps, weighting in ((1.0, 0.0, "pw"), (0.5, 0.125, "cwpw")):
                shape = (2, 33) if frac == 1.0 else (5, 8)
                cases.append(make_case(inp, "hard_zeros%g_%s_%s_%s_eps%s" % (
                    frac, kind, reduction, weighting, eps_name(eps)), shape, kind, reduction,
                    eps, weighting, zeros=frac))
                k += 1
    # the API's examples: -1e4 with target 1 is a loss of 1e4 (not inf), +1e4 with target 0 too
    for reduction in ("mean", "sum", "none"):
        for eps, weighting in ((0.0, "now"), (0.0, "cwpw"), (0.125, "pw")):
            x = np.array([-1e4, 1e4, -1e4, 1e4, 0.0, 0.0, -1e4 + 1, 9999.5, -30.0, 30.0,
                          -89.0, 89.0, -104.0, 104.0, -745.0, 745.0])
            t = np.array([1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1], dtype=np.float64)
            for shape in ((16,), (4, 4)):
                cases.append(make_case(inp, "hard_examples_%s_%s_eps%s_%s" % (
                    reduction, weighting, eps_name(eps), "x".join(map(str, shape))), shape,
                    "hard", reduction, eps, weighting, logits=f32(x).reshape(shape),
                    targets=t.reshape(shape)))
    # many elements with one reduction each (a long sum)
    for reduction, kind, weighting in (("mean", "soft", "cwpw"), ("sum", "hard", "cw"),
                                       ("none", "soft", "pw")):
        cases.append(make_case(inp, "hard_long_%s_%s_%s" % (reduction, kind, weighting),
                               (8, 31), kind, reduction, 0.125, weighting, scale=5.0))
    return cases


def edge_cases():
    """Empty tensors, and the masked +-inf elements of the API (loss 0, gradient 0)."""
    inp = Inputs(15 + SEED_OFFSET)
    cases = []
    for kind in ("hard", "soft"):
        for reduction in ("mean", "sum", "none"):
            for shape in ((0, 5), (2, 0, 3), (0,), (0, 1)):
                for weighting, eps in (("now", 0.0), ("cwpw", EPS_F32_01)):
                    cases.append(make_case(inp, "edge_empty_%s_%s_%s_%s_eps%s" % (
                        "x".join(map(str, shape)), kind, reduction, weighting, eps_name(eps)),
                        shape, kind, reduction, eps, weighting))
    # +inf with target 1 and -inf with target 0 (no smoothing, so t' = t): masked elements,
    # mixed with finite ones
    k = 0
    for kind in ("hard", "soft"):
        for reduction in ("mean", "sum", "none"):
            for weighting in WEIGHTINGS:
                shape = ((7,), (5, 1), (4, 9), (2, 3, 17))[k % 4]
                x = inp.logits(shape, 4.0)
                t = inp.targets(shape, kind)
                flat_x = x.reshape(-1)
                flat_t = t.reshape(-1)
                n = flat_x.size
                picks = inp.rng.choice(n, size=max(2, n // 3), replace=False)
                for j, e in enumerate(picks):
                    if j % 2 == 0:
                        flat_x[e], flat_t[e] = np.inf, 1.0
                    else:
                        flat_x[e], flat_t[e] = -np.inf, 0.0
                cases.append(make_case(inp, "edge_inf_%s_%s_%s_%s" % (
                    kind, reduction, weighting, "x".join(map(str, shape))), shape, kind,
                    reduction, 0.0, weighting, logits=x, targets=t))
                k += 1
    # every element masked: the loss is exactly 0 and so is the gradient
    for reduction in ("mean", "sum", "none"):
        for weighting in ("now", "cwpw"):
            x = np.array([[np.inf, -np.inf, np.inf], [-np.inf, -np.inf, np.inf]])
            t = np.array([[1, 0, 1], [0, 0, 1]], dtype=np.float64)
            cases.append(make_case(inp, "edge_all_inf_%s_%s" % (reduction, weighting), (2, 3),
                                   "hard", reduction, 0.0, weighting, logits=x, targets=t))
    return cases


GROUPS = (options_cases, classes_cases, static_cases, hard_cases, edge_cases)


def main():
    global OUT_DIR, SEED_OFFSET
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=OUT_DIR, help="output directory (default: tests/data)")
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="draw other inputs for the same cases (the committed file uses 0)")
    args = parser.parse_args()
    OUT_DIR, SEED_OFFSET = args.out, args.seed_offset
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = [c for make in GROUPS for c in make()]
    names = [c.name for c in cases]
    dup = sorted({n for n in names if names.count(n) > 1})
    assert not dup, "duplicate case names: %s" % dup
    path = os.path.join(OUT_DIR, "conformance_sigmoid.txt")
    sources = {"torch": 0, "masked": 0}
    with open(path, "w") as f:
        f.write("# shapeguard sigmoid cross-entropy conformance cases\n")
        f.write("# generated by: %s  (torch %s, float64; do not edit)\n" % (
            COMMAND, torch.__version__))
        f.write("# format: see tests/conformance/generate_sigmoid.py\n")
        for case in cases:
            sources[write_case(f, case)] += 1
        f.write("count %d\n" % len(cases))
    print("%s: %d cases (%d from torch, %d masked), %d bytes" % (
        os.path.relpath(path), len(cases), sources["torch"], sources["masked"],
        os.path.getsize(path)))


if __name__ == "__main__":
    sys.exit(main())
