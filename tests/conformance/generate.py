#!/usr/bin/env python3
# Writes the golden files of shapeguard's softmax cross-entropy conformance suite.
#
# Regenerate (from the repository root, with Debian 12's python3-torch and python3-numpy):
#
#     /usr/bin/python3 tests/conformance/generate.py
#
# (--out DIR --seed-offset K writes the same cases with other random inputs elsewhere: a fresh
# set to run the C++ test against, built with -DSHAPEGUARD_TEST_DATA_DIR=DIR.)
#
# The output is deterministic (fixed seeds), so regenerating with the same torch version gives
# the same files. CI never runs this script: tests/test_conformance.cpp reads the committed files.
#
# Every reference is computed by torch in float64. Logits, probability targets and class weights
# are chosen exactly representable in float32 (probabilities are multiples of 2^-20 that sum to
# exactly 1), so the float32 run of the C++ test sees the very inputs of the float64 reference.
#
# File format (text, one record per line, values separated by single spaces):
#
#     # comment lines (the header: this command, the torch version)
#     case <name>
#     source torch|masked
#     shape <d0> ... <dk>          logits shape, class axis last (torch's class axis is moved),
#                                  except with a class_axis record
#     class_axis 1                 only in group "classes_first": logits, targets and gradient
#                                  are stored in torch's own order [N, C, d1, ..., dk] (shape
#                                  too), labels and per-sample losses [N, d1, ..., dk]; their
#                                  values are torch's cross_entropy applied directly on that
#                                  order (cross-checked against the class-last computation)
#     kind indices|onehot|probs    indices: class indices; onehot: the class indices given as
#                                  one-hot rows; probs: probability rows
#     reduction mean|sum|none
#     ignore_index <int>
#     smoothing <double>           the float32 value of ce_options::label_smoothing
#     zloss <double>               ce_options::z_loss (a double, exact in 15 digits: 1e-4, 0.5);
#                                  only written when it is not 0 (absent: 0)
#     softcap <double>             ce_options::soft_cap (a double, exact in 15 digits: 2.5, 30);
#                                  only written when it is not 0 (absent: 0)
#     weights - | <C values>       class weights (float32 values, as hex)
#     logits <values>              row-major, hex floats (float32 values), "-inf" for masks
#     labels <ints>                kind indices/onehot: one per row
#     targets <values>             kind probs: row-major, hex floats
#     loss <value>                 reduction mean/sum
#     losses <values>              reduction none: one per row
#     grad <values>                d loss / d logits (none: row i holds d loss_i / d logits_i)
#     unit <value>                 the size of the terms the outputs are made of, for the test's
#                                  absolute error floor: max over rows of g * A_i, with A_i the
#                                  sum of row i's coefficients a_c and g the gradient's scale
#                                  (1 / denominator for mean, 0 if that is 0; else 1); with a
#                                  z-loss, max over counted rows of g * (A_i + 2 z |lse_i|)
#                                  (with a soft cap, lse_i of the capped logits; the gradient
#                                  through tanh is the plain one times 1 - tanh^2 <= 1, so the
#                                  plain terms bound it)
#     end
#
# source torch: the expected values are torch.nn.functional.cross_entropy's. With a z-loss (the
#   zloss record; group "zloss") they are composed from torch in float64: cross_entropy plus
#   z * torch.logsumexp(x, dim=class)^2 over the counted rows (not the ignored ones; not weighted
#   by class weights), reduced with the loss (mean: cross_entropy with reduction='sum' plus the
#   z sum, divided by the loss's own denominator, sum of w[y] over counted rows for class
#   indices, the row count for per-class targets), the gradient by torch autograd.
#   With a soft cap s (the softcap record; group "softcap") the same is composed over
#   s * torch.tanh(x / s) in place of the logits x (the z-loss's logsumexp too), the gradient by
#   autograd w.r.t. the raw logits x. A -inf logit is capped to -s, a finite logit: torch's
#   result is finite there (its gradient entry is 0), even where the target has weight there,
#   so these cases are source torch. Where tanh rounds to +-1 in float64 (|x / s| > ~19) torch's
#   gradient factor 1 - tanh^2 is exactly 0 rather than about 4 exp(-2 |x / s|): an absolute
#   difference of at most ~1e-16 of the plain gradient entry, far below the test's floor.
# source masked: torch gives NaN here, and shapeguard deliberately differs (README, Semantics):
#   a -inf logit whose coefficient a_c is 0 contributes 0 (torch: 0 * -inf = NaN), and a mean
#   whose denominator is 0 (every row ignored, an empty batch, every counted target weight 0) is 0
#   with a zero gradient (torch: NaN). These expected values come from the documented formula,
#   evaluated with torch in float64; the script checks that this formula agrees with torch on
#   every case where torch's result is finite.

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

COMMAND = "/usr/bin/python3 tests/conformance/generate.py"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
PROB_BITS = 20  # probability targets are multiples of 2**-PROB_BITS
SEED_OFFSET = 0  # --seed-offset: other draws of the same cases (fresh, unseen data)

torch.set_default_dtype(torch.float64)


def f32(a):
    """Rounds to float32 values, kept as float64."""
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def hexf(v):
    """A float32-exact value as a short C hex float ("-inf" for masks)."""
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    m, e = math.frexp(abs(v))  # v = m * 2**e, m in [0.5, 1)
    bits = int(m * (1 << 24))
    assert bits / (1 << 24) == m, "not a float32 value"
    # 0x1.<23 bits as 6 hex digits, trailing zeros dropped>p<e-1>
    frac = (bits - (1 << 23)) << 1  # 24 bits after the point
    digits = "%06x" % frac
    digits = digits.rstrip("0")
    s = "0x1" + ("." + digits if digits else "") + "p%d" % (e - 1)
    return ("-" if v < 0 else "") + s


def dec(v):
    """An expected value: 15 significant digits (relative rounding error <= 5e-16)."""
    v = float(v)
    return "%.15g" % v if math.isfinite(v) else repr(v)


class Case:
    def __init__(self, name, shape, kind, reduction, logits, labels=None, targets=None,
                 ignore_index=-100, smoothing=0.0, weights=None, zloss=0.0, softcap=0.0):
        self.name = name
        self.class_axis = None  # 1: written in torch's [N, C, d...] order (classes_first_cases)
        self.shape = tuple(shape)
        self.kind = kind
        self.reduction = reduction
        self.logits = np.asarray(logits, dtype=np.float64).reshape(self.shape)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64).reshape(
            self.shape[:-1])
        self.targets = None if targets is None else np.asarray(targets, dtype=np.float64).reshape(
            self.shape)
        self.ignore_index = int(ignore_index)
        self.smoothing = float(np.float32(smoothing))
        self.weights = None if weights is None else f32(weights)
        self.zloss = float(zloss)
        assert self.zloss >= 0 and float(dec(self.zloss)) == self.zloss, "zloss not exact in dec"
        self.softcap = float(softcap)
        assert self.softcap >= 0 and float(dec(self.softcap)) == self.softcap, \
            "softcap not exact in dec"
        assert np.array_equal(self.logits, f32(self.logits))
        if self.weights is not None:
            assert self.weights.shape == (self.shape[-1],)


def per_class_targets(case):
    """Targets as rows with the logits' shape (kinds onehot and probs)."""
    if case.kind == "probs":
        return case.targets
    C = case.shape[-1]
    return np.eye(C)[case.labels.reshape(-1)].reshape(case.shape)


def torch_reference(case):
    """torch.nn.functional.cross_entropy in float64, class axis moved to where torch wants it."""
    x = torch.tensor(case.logits, requires_grad=True)
    xc = capped(case, x)
    xt = xc.movedim(-1, 1) if xc.dim() >= 2 else xc
    if case.kind == "indices":
        tgt = torch.tensor(case.labels)
    else:
        t = torch.tensor(per_class_targets(case))
        tgt = t.movedim(-1, 1) if t.dim() >= 2 else t
    w = None if case.weights is None else torch.tensor(case.weights)
    if case.zloss == 0:
        out = F.cross_entropy(xt, tgt, weight=w, ignore_index=case.ignore_index,
                              reduction=case.reduction, label_smoothing=case.smoothing)
    else:
        # composed: torch's cross_entropy plus z * logsumexp^2 over the counted rows
        z_rows = z_terms(case, xc)
        if case.reduction == "none":
            out = F.cross_entropy(xt, tgt, weight=w, ignore_index=case.ignore_index,
                                  reduction="none", label_smoothing=case.smoothing) + z_rows
        else:
            out = F.cross_entropy(xt, tgt, weight=w, ignore_index=case.ignore_index,
                                  reduction="sum", label_smoothing=case.smoothing) + z_rows.sum()
            if case.reduction == "mean":
                out = out / coefficients(case)[1]  # denominator 0: NaN or inf (source masked)
    (out.sum() if case.reduction == "none" else out).backward()
    return out.detach().numpy().copy(), x.grad.numpy().copy()


def counted_rows(case):
    """1.0 for each row that counts (not ignored), 0.0 otherwise; shape: the batch shape."""
    if case.kind == "indices":
        return (case.labels != case.ignore_index).astype(np.float64)
    return np.ones(case.shape[:-1])


def capped(case, x):
    """The logits as the loss sees them: s * tanh(x / s) with a soft cap s, else x itself (a
    torch tensor of x; -inf becomes -s)."""
    if case.softcap == 0:
        return x
    return case.softcap * torch.tanh(x / case.softcap)


def z_terms(case, x):
    """z * logsumexp(x_i)^2 for each counted row, 0 for ignored ones (a torch tensor of x, the
    capped logits when there is a soft cap)."""
    lse = torch.logsumexp(x, dim=-1)
    counted = torch.tensor(counted_rows(case))
    return torch.where(counted != 0, case.zloss * lse * lse, torch.zeros_like(lse))


def coefficients(case):
    """a_c per row (README, Semantics), and the mean's denominator."""
    C = case.shape[-1]
    eps = case.smoothing
    w = np.ones(C) if case.weights is None else case.weights
    if case.kind == "indices":
        y = case.labels.reshape(-1)
        a = np.zeros((y.size, C))
        denominator = 0.0
        for i, k in enumerate(y):
            if k == case.ignore_index:
                continue
            a[i] = eps / C * w
            a[i, k] += (1 - eps) * w[k]
            denominator += w[k]
    else:
        t = per_class_targets(case).reshape(-1, C)
        a = w * ((1 - eps) * t + eps / C)
        denominator = float(t.shape[0])
    return a.reshape(case.shape), denominator


def masked_reference(case):
    """The documented formula: loss_i = -sum over a_c != 0 of a_c * log_softmax(x_i)_c."""
    a, denominator = coefficients(case)
    x = torch.tensor(case.logits, requires_grad=True)
    at = torch.tensor(a)
    xc = capped(case, x)
    lp = torch.log_softmax(xc, dim=-1)
    per = -torch.where(at != 0, at * lp, torch.zeros_like(lp)).sum(-1)
    if case.zloss != 0:
        per = per + z_terms(case, xc)
    if case.reduction == "none":
        out = per
        per.sum().backward()
    elif case.reduction == "sum":
        out = per.sum()
        out.backward()
    else:
        out = per.sum() / denominator if denominator > 0 else per.sum() * 0.0
        out.backward()
    return out.detach().numpy().copy(), x.grad.numpy().copy()


def unit(case):
    a, denominator = coefficients(case)
    if a.size == 0:
        return 0.0
    g = 1.0
    if case.reduction == "mean":
        g = 1.0 / denominator if denominator > 0 else 0.0
    A = a.reshape(-1, case.shape[-1]).sum(axis=1)
    if case.zloss == 0:
        return g * float(A.max())
    # the gradient's terms: g * (A_i + 2 z lse_i) p_c and g * a_c, counted rows only (ignored
    # rows have A_i = 0 and no z-loss); with a soft cap, lse_i of the capped logits, and each
    # term times 1 - tanh^2 <= 1
    lse = torch.logsumexp(capped(case, torch.tensor(case.logits)), dim=-1).numpy().reshape(-1)
    counted = counted_rows(case).reshape(-1)
    terms = np.where(counted != 0, A + 2 * case.zloss * np.abs(lse), 0.0)
    return g * float(terms.max())


def finite(*arrays):
    return all(np.all(np.isfinite(a)) for a in arrays)


def solve(case):
    """Expected outputs and their source; checks the documented formula against torch."""
    t_out, t_grad = torch_reference(case)
    m_out, m_grad = masked_reference(case)
    assert finite(m_out, m_grad), case.name
    if finite(t_out, t_grad):
        scale = max(1.0, float(np.max(np.abs(t_out))) if t_out.size else 1.0)
        gscale = max(1.0, float(np.max(np.abs(t_grad))) if t_grad.size else 1.0)
        assert np.allclose(m_out, t_out, rtol=1e-12, atol=1e-12 * scale), case.name
        assert np.allclose(m_grad, t_grad, rtol=1e-12, atol=1e-12 * gscale), case.name
        return "torch", t_out, t_grad
    return "masked", m_out, m_grad


def classes_first(a):
    """Values [N, d1, ..., dk, C] in torch's order [N, C, d1, ..., dk], contiguous."""
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def torch_classes_first(case):
    """torch.nn.functional.cross_entropy in float64 applied directly on logits (and per-class
    targets) stored in torch's order [N, C, d...]; the gradient in that order."""
    x = torch.tensor(classes_first(case.logits), requires_grad=True)
    tgt = torch.tensor(case.labels if case.kind == "indices" else classes_first(case.targets))
    w = None if case.weights is None else torch.tensor(case.weights)
    out = F.cross_entropy(x, tgt, weight=w, ignore_index=case.ignore_index,
                          reduction=case.reduction, label_smoothing=case.smoothing)
    (out.sum() if case.reduction == "none" else out).backward()
    return out.detach().numpy().copy(), x.grad.numpy().copy()


def write_case(f, case):
    source, out, grad = solve(case)
    shape, logits, targets = case.shape, case.logits, case.targets
    if case.class_axis == 1:
        # torch's own order: its result there must be the class-last one (solve)
        assert len(shape) >= 2 and source == "torch", case.name
        assert case.kind in ("indices", "probs") and case.zloss == 0 and case.softcap == 0
        t_out, t_grad = torch_classes_first(case)
        assert np.allclose(t_out, out, rtol=1e-13, atol=1e-15), case.name
        assert np.allclose(t_grad, classes_first(grad), rtol=1e-13, atol=1e-15), case.name
        out, grad = t_out, t_grad
        shape = (shape[0], shape[-1]) + shape[1:-1]
        logits = classes_first(logits)
        targets = None if targets is None else classes_first(targets)
    f.write("case %s\n" % case.name)
    f.write("source %s\n" % source)
    f.write("shape %s\n" % " ".join(str(d) for d in shape))
    if case.class_axis is not None:
        f.write("class_axis %d\n" % case.class_axis)
    f.write("kind %s\n" % case.kind)
    f.write("reduction %s\n" % case.reduction)
    f.write("ignore_index %d\n" % case.ignore_index)
    f.write("smoothing %s\n" % dec(case.smoothing))
    if case.zloss != 0:
        f.write("zloss %s\n" % dec(case.zloss))
    if case.softcap != 0:
        f.write("softcap %s\n" % dec(case.softcap))
    if case.weights is None:
        f.write("weights -\n")
    else:
        f.write("weights %s\n" % " ".join(hexf(v) for v in case.weights))
    f.write("logits %s\n" % " ".join(hexf(v) for v in logits.reshape(-1)))
    if case.kind == "probs":
        f.write("targets %s\n" % " ".join(hexf(v) for v in targets.reshape(-1)))
    else:
        f.write("labels %s\n" % " ".join(str(int(v)) for v in case.labels.reshape(-1)))
    if case.reduction == "none":
        f.write("losses %s\n" % " ".join(dec(v) for v in out.reshape(-1)))
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

    def logits(self, shape, scale=3.0, offset=0.0):
        return f32(self.rng.standard_normal(shape) * scale + offset)

    def labels(self, batch, C, forbid=()):
        allowed = np.array([c for c in range(C) if c not in forbid])
        return allowed[self.rng.integers(0, allowed.size, size=batch)]

    def ignore_rows(self, labels, ignore_index, fraction=0.35):
        """Sets some rows to ignore_index; keeps at least one counted row when there are two."""
        flat = labels.reshape(-1).copy()
        n = flat.size
        if n == 0:
            return labels
        hit = self.rng.random(n) < fraction
        if n >= 2:
            hit[self.rng.integers(0, n)] = True  # at least one ignored row
            keep = self.rng.integers(0, n)
            hit[keep] = False                     # at least one counted row
            if flat[keep] == ignore_index:        # an in-range ignore_index: move that label
                flat[keep] = (ignore_index + 1) % max(self.C, 1)
        flat[hit] = ignore_index
        return flat.reshape(labels.shape)

    def probabilities(self, shape, zero_columns=(), sparse=0.0):
        """Rows of multiples of 2**-PROB_BITS summing exactly to 1."""
        C = shape[-1]
        rows = int(np.prod(shape[:-1], dtype=np.int64))
        out = np.zeros((rows, C))
        for i in range(rows):
            alpha = self.rng.gamma(0.7, size=C) + 1e-3
            alpha[list(zero_columns)] = 0
            if sparse > 0 and C > 1:
                drop = self.rng.random(C) < sparse
                if (alpha * ~drop).sum() > 0:
                    alpha = alpha * ~drop
            p = alpha / alpha.sum()
            counts = self.rng.multinomial(1 << PROB_BITS, p)
            out[i] = counts / float(1 << PROB_BITS)
            assert out[i].sum() == 1.0
        return out.reshape(shape)

    def weights(self, C, zeros=0):
        w = f32(self.rng.uniform(0.25, 3.0, size=C))
        if zeros:
            w[self.rng.choice(C, size=min(zeros, C), replace=False)] = 0.0
        return w


def make_case(inp, name, shape, kind, reduction, ignore="none", smoothing=0.0, weighted=False,
              zero_weights=0, scale=3.0, offset=0.0, logits=None, mask_columns=(),
              sparse_targets=0.0, zloss=0.0, softcap=0.0):
    """One case. ignore: none | default | inrange | outside | minus1 (class indices only)."""
    shape = tuple(shape)
    C = shape[-1]
    batch = shape[:-1]
    inp.C = C
    if logits is None:
        logits = inp.logits(shape, scale, offset)
    weights = None
    if weighted:
        weights = inp.weights(C, zero_weights)
        if mask_columns:
            weights[list(mask_columns)] = 0.0
    ignore_index = -100
    labels = targets = None
    if kind in ("indices", "onehot"):
        labels = inp.labels(batch, C, forbid=mask_columns)
        if kind == "indices" and ignore != "none":
            ignore_index = {"default": -100, "inrange": min(1, C - 1), "outside": C + 7,
                            "minus1": -1, "large": 1 << 40}[ignore]
            labels = inp.ignore_rows(labels, ignore_index)
    else:
        targets = inp.probabilities(shape, zero_columns=mask_columns, sparse=sparse_targets)
    if mask_columns:
        logits = logits.copy()
        logits[..., list(mask_columns)] = -np.inf
    return Case(name, shape, kind, reduction, logits, labels=labels, targets=targets,
                ignore_index=ignore_index, smoothing=smoothing, weights=weights, zloss=zloss,
                softcap=softcap)


KINDS = ("indices", "onehot", "probs")
REDUCTIONS = ("mean", "sum", "none")
SMOOTHINGS = (0.0, 0.1, 0.3, 1.0)
IGNORES = ("none", "default", "inrange", "outside", "minus1", "large")


def shape_for(inp, k, max_c=12):
    """Rotates through [C], [N, C], [B, T, C] and [N, H, W, C]."""
    C = int(inp.rng.integers(2, max_c + 1))
    form = k % 4
    if form == 0:
        return (int(inp.rng.integers(1, 9)), C)
    if form == 1:
        return (int(inp.rng.integers(1, 4)), int(inp.rng.integers(1, 5)), C)
    if form == 2:
        return (int(inp.rng.integers(1, 3)), int(inp.rng.integers(1, 3)),
                int(inp.rng.integers(1, 4)), C)
    return (C,) if k % 8 == 3 else (int(inp.rng.integers(2, 7)), C)


def options_cases():
    """Every combination: kind x reduction x weights x smoothing (x ignore for indices)."""
    inp = Inputs(1 + SEED_OFFSET)
    cases = []
    k = 0
    for kind in KINDS:
        for reduction in REDUCTIONS:
            for weighted in (False, True):
                for eps in SMOOTHINGS:
                    for ignore in (IGNORES if kind == "indices" else ("none",)):
                        shape = shape_for(inp, k)
                        if ignore != "none" and len(shape) == 1:
                            shape = (3,) + shape  # an unbatched sample is not ignored here
                        name = "opt_%s_%s_%s_eps%s_ign-%s" % (
                            kind, reduction, "w" if weighted else "now", eps, ignore)
                        cases.append(make_case(inp, name, shape, kind, reduction, ignore, eps,
                                               weighted, zero_weights=int(k % 5 == 4)))
                        k += 1
    return cases


CLASS_COUNTS = list(range(1, 34)) + [63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 4099]


def classes_cases():
    """Class counts 1..33 (every C mod 16), around 64, 128 and 256, 1000 and 4099."""
    inp = Inputs(2 + SEED_OFFSET)
    cases = []
    k = 0
    for C in CLASS_COUNTS:
        variants = 2 if C >= 1000 else 3
        for v in range(variants):
            kind = KINDS[k % 3] if C < 1000 else ("indices", "probs")[v]
            reduction = REDUCTIONS[(k // 3) % 3]
            weighted = (k // 2) % 2 == 1
            eps = SMOOTHINGS[(k // 5) % 4] if v != 0 else 0.0
            ignore = ("none", "default", "inrange")[k % 3] if kind == "indices" else "none"
            if C == 1 and ignore == "inrange":
                ignore = "default"
            rows = 1 if C >= 1000 else int(inp.rng.integers(1, 4 if C > 100 else 9))
            if C >= 1000 and kind == "indices":
                rows = 2
            shape = (rows, C) if v != 2 else (2, int(inp.rng.integers(1, 4 if C < 100 else 2)), C)
            name = "classes_C%d_%s_%s_%s_eps%s_ign-%s" % (
                C, kind, reduction, "w" if weighted else "now", eps, ignore)
            cases.append(make_case(inp, name, shape, kind, reduction, ignore, eps, weighted,
                                   scale=float(1 + k % 4), sparse_targets=0.5 * (k % 2)))
            k += 1
    return cases


def hard_cases():
    """Scale 1e4, -inf masks, all-equal rows, a +1e3 offset."""
    inp = Inputs(3 + SEED_OFFSET)
    cases = []
    k = 0
    for kind in KINDS:
        for reduction in REDUCTIONS:
            # huge logits: most softmax rows are one-hot up to rounding
            for eps, weighted in ((0.0, False), (0.1, True)):
                shape = (5, 7) if k % 2 == 0 else (2, 3, 9)
                ignore = "default" if kind == "indices" and eps == 0 else "none"
                cases.append(make_case(inp, "hard_scale1e4_%s_%s_eps%s_%s" % (
                    kind, reduction, eps, "w" if weighted else "now"), shape, kind, reduction,
                    ignore, eps, weighted, scale=1e4))
                k += 1
            # +1e3 offset
            for eps, weighted in ((0.0, True), (0.3, False)):
                shape = (6, 11) if k % 2 == 0 else (2, 2, 2, 5)
                cases.append(make_case(inp, "hard_offset1e3_%s_%s_eps%s_%s" % (
                    kind, reduction, eps, "w" if weighted else "now"), shape, kind, reduction,
                    "none", eps, weighted, scale=2.0, offset=1e3))
                k += 1
            # all-equal rows (each row its own constant; one class count per reduction)
            for C, eps, weighted in ((1, 0.0, False), (4, 0.1, True), (17, 0.0, False),
                                     (33, 1.0, True)):
                rows = 4
                constant = f32(inp.rng.uniform(-50, 50, size=(rows, 1)))
                x = np.repeat(constant, C, axis=1)
                cases.append(make_case(inp, "hard_equal_C%d_%s_%s_eps%s_%s" % (
                    C, kind, reduction, eps, "w" if weighted else "now"), (rows, C), kind,
                    reduction, "none", eps, weighted, logits=x))
                k += 1
            # -inf masks: a set of masked columns; targets avoid them, and their weights are 0
            # wherever smoothing would otherwise give them a coefficient
            for eps, weighted, C, shape_kind in ((0.0, False, 8, 0), (0.2, True, 19, 1),
                                                  (0.0, True, 33, 0), (1.0, True, 6, 2)):
                masked = tuple(sorted(inp.rng.choice(C, size=max(1, C // 3), replace=False)))
                shape = ((4, C), (2, 3, C), (2, 2, 2, C))[shape_kind]
                cases.append(make_case(inp, "hard_neginf_C%d_%s_%s_eps%s_%s" % (
                    C, kind, reduction, eps, "w" if weighted else "now"), shape, kind,
                    reduction, "default" if kind == "indices" else "none", eps, weighted,
                    mask_columns=masked, scale=4.0))
                k += 1
    # huge logits with masks in one row, class indices and probabilities
    for kind in ("indices", "probs"):
        cases.append(make_case(inp, "hard_scale1e4_neginf_%s" % kind, (3, 10), kind, "mean",
                               "none", 0.1, True, mask_columns=(0, 9), scale=1e4))
    return cases


def edge_cases():
    """Empty batches, every row ignored, zero denominators, C = 1, extreme ignore_index."""
    inp = Inputs(4 + SEED_OFFSET)
    cases = []
    for kind in KINDS:
        for reduction in REDUCTIONS:
            for shape in ((0, 5), (2, 0, 3)):
                for weighted, eps in ((False, 0.0), (True, 0.1)):
                    cases.append(make_case(
                        inp, "edge_empty_%s_%s_%s_%s_eps%s" % (
                            "x".join(map(str, shape)), kind, reduction,
                            "w" if weighted else "now", eps),
                        shape, kind, reduction, "none", eps, weighted))
    for reduction in REDUCTIONS:
        for ignore_index in (-100, 2, 99):
            for weighted, eps in ((False, 0.0), (True, 0.25)):
                shape = (4, 5) if ignore_index != 2 else (2, 3, 5)
                x = inp.logits(shape)
                labels = np.full(shape[:-1], ignore_index)
                cases.append(Case("edge_all_ignored_%s_ign%d_%s_eps%s" % (
                    reduction, ignore_index, "w" if weighted else "now", eps), shape,
                    "indices", reduction, x, labels=labels, ignore_index=ignore_index,
                    smoothing=eps, weights=inp.weights(5) if weighted else None))
        # every counted row's target has weight 0 (the mean's denominator is 0)
        for eps in (0.0, 0.1):
            C = 6
            w = inp.weights(C)
            w[[1, 4]] = 0.0
            labels = np.array([1, 4, -100, 1, 4])
            cases.append(Case("edge_zero_target_weights_%s_eps%s" % (reduction, eps), (5, C),
                              "indices", reduction, inp.logits((5, C)), labels=labels,
                              smoothing=eps, weights=w))
        # C = 1: the loss is 0 and so is the gradient, whatever the options
        for kind in KINDS:
            cases.append(make_case(inp, "edge_C1_%s_%s" % (kind, reduction), (6, 1), kind,
                                   reduction, "default" if kind == "indices" else "none", 0.3,
                                   True))
        # a single unbatched sample
        for kind in KINDS:
            cases.append(make_case(inp, "edge_unbatched_%s_%s" % (kind, reduction), (9,), kind,
                                   reduction, "none", 0.1, True))
        # extreme ignore_index values: far outside any label type, and the int64 extremes
        for ignore in ("large",):
            cases.append(make_case(inp, "edge_ignore_%s_%s" % (ignore, reduction), (7, 4),
                                   "indices", reduction, ignore, 0.1, True))
        for ignore_index in (-(1 << 63), (1 << 63) - 1):
            shape = (6, 5)
            labels = inp.labels(shape[:-1], 5)
            labels[[1, 4]] = ignore_index
            cases.append(Case("edge_ignore_%d_%s" % (ignore_index, reduction), shape, "indices",
                              reduction, inp.logits(shape), labels=labels,
                              ignore_index=ignore_index, smoothing=0.2,
                              weights=inp.weights(5)))
    return cases


ZLOSSES = (1e-4, 0.01, 0.5, 2.0)  # exact in dec's 15 digits: the C++ test parses the same doubles


def zloss_cases():
    """z-loss (ce_options::z_loss): every kind x reduction x weights x smoothing, z rotating
    through ZLOSSES; class counts of every kernel (tiles 2..16, 17..40, 1000, 5000: several
    blocks); offsets +-30 so that lse is large (z = 2 with lse < 0 makes A + 2 z lse negative);
    -inf masks; every row ignored; a mean whose counted rows all have weight 0; empty batches."""
    inp = Inputs(5 + SEED_OFFSET)
    cases = []

    def z_name(z):
        return ("%g" % z).replace("-", "m")

    # every option, class counts 2..16 (the tile kernels)
    k = 0
    for kind in KINDS:
        for reduction in REDUCTIONS:
            for weighted in (False, True):
                for eps in (0.0, 0.1):
                    for ignore in (("default", "inrange") if kind == "indices" else ("none",)):
                        z = ZLOSSES[k % 4]
                        shape = shape_for(inp, k, max_c=16)
                        if ignore != "none" and len(shape) == 1:
                            shape = (3,) + shape  # an unbatched sample is not ignored here
                        name = "zloss_opt_%s_%s_%s_eps%s_ign-%s_z%s" % (
                            kind, reduction, "w" if weighted else "now", eps, ignore, z_name(z))
                        cases.append(make_case(inp, name, shape, kind, reduction, ignore, eps,
                                               weighted, zero_weights=int(k % 5 == 4),
                                               zloss=z))
                        k += 1
    # class counts 17..40 (the long-row kernels), 1000 and 5000 (more than 4096: several blocks)
    for C in list(range(17, 41)) + [1000, 1000, 1000, 5000]:
        kind = KINDS[k % 3] if C != 5000 else "indices"
        reduction = REDUCTIONS[(k // 3) % 3]
        weighted = (k // 2) % 2 == 1
        eps = (0.0, 0.1)[(k // 5) % 2]
        z = ZLOSSES[(k // 7) % 4]
        ignore = ("default", "inrange")[k % 2] if kind == "indices" else "none"
        if C == 5000:
            shape = (2, C)
        elif C == 1000:
            shape = (3, C) if k % 2 else (1, 2, C)
        else:
            shape = (int(inp.rng.integers(1, 7)), C) if k % 3 else (2, 2, C)
        name = "zloss_C%d_%s_%s_%s_eps%s_ign-%s_z%s" % (
            C, kind, reduction, "w" if weighted else "now", eps, ignore, z_name(z))
        cases.append(make_case(inp, name, shape, kind, reduction, ignore, eps, weighted,
                               scale=float(1 + k % 4), sparse_targets=0.5 * (k % 2), zloss=z))
        k += 1
    # large offsets: lse about +-30 dominates the loss (z lse^2) and the gradient (2 z lse p)
    j = 0
    for kind in KINDS:
        for reduction in REDUCTIONS:
            for offset in (30.0, -30.0):
                # every third case z = 2 (both offsets get it: with -30, A + 2 z lse < 0)
                z = ZLOSSES[(j // 2) % 4] if j % 3 else 2.0
                shape = shape_for(inp, k, max_c=24)
                ignore = "default" if kind == "indices" else "none"
                if ignore != "none" and len(shape) == 1:
                    shape = (3,) + shape
                weighted = j % 2 == 0
                eps = (0.0, 0.1)[(j // 3) % 2]
                name = "zloss_offset%+d_%s_%s_%s_eps%s_z%s" % (
                    int(offset), kind, reduction, "w" if weighted else "now", eps, z_name(z))
                cases.append(make_case(inp, name, shape, kind, reduction, ignore, eps, weighted,
                                       offset=offset, zloss=z))
                k += 1
                j += 1
    # -inf masks: masked columns have weight 0 (smoothing would give them a coefficient) and no
    # target; torch gives NaN (0 * -inf), the formula 0 (source masked); lse ignores them
    for kind in KINDS:
        for reduction in REDUCTIONS:
            C = (8, 19, 33)[j % 3]
            masked = tuple(sorted(inp.rng.choice(C, size=max(1, C // 3), replace=False)))
            shape = ((4, C), (2, 3, C), (2, 2, 2, C))[j % 3]
            z = ZLOSSES[j % 4]
            eps = 0.1 if kind == "indices" else (0.0, 0.1)[j % 2]
            name = "zloss_neginf_C%d_%s_%s_eps%s_z%s" % (C, kind, reduction, eps, z_name(z))
            cases.append(make_case(inp, name, shape, kind, reduction,
                                   "default" if kind == "indices" else "none", eps, True,
                                   mask_columns=masked, scale=4.0, zloss=z))
            j += 1
    # every row ignored: no z-loss either; the mean's denominator is 0 (loss 0, zero gradient)
    for reduction in REDUCTIONS:
        for ignore_index, weighted in ((-100, False), (2, True)):
            if reduction != "mean" and weighted:
                continue
            shape = (4, 5) if ignore_index != 2 else (2, 3, 5)
            labels = np.full(shape[:-1], ignore_index)
            z = ZLOSSES[j % 4]
            cases.append(Case("zloss_all_ignored_%s_ign%d_%s_z%s" % (
                reduction, ignore_index, "w" if weighted else "now", z_name(z)), shape,
                "indices", reduction, inp.logits(shape, offset=10.0), labels=labels,
                ignore_index=ignore_index, smoothing=0.1 if weighted else 0.0,
                weights=inp.weights(5) if weighted else None, zloss=z))
            j += 1
    # every counted row's target has weight 0: the mean's denominator is 0 although the rows
    # have a z-loss (loss 0, zero gradient); sum and none keep it
    for reduction in REDUCTIONS:
        C = 6
        w = inp.weights(C)
        w[[1, 4]] = 0.0
        z = ZLOSSES[j % 4]
        cases.append(Case("zloss_zero_target_weights_%s_z%s" % (reduction, z_name(z)), (5, C),
                          "indices", reduction, inp.logits((5, C), offset=-5.0),
                          labels=np.array([1, 4, -100, 1, 4]), weights=w, zloss=z))
        j += 1
    # empty batches
    for kind, reduction in (("indices", "mean"), ("probs", "sum"), ("onehot", "none")):
        z = ZLOSSES[j % 4]
        cases.append(make_case(inp, "zloss_empty_%s_%s_z%s" % (kind, reduction, z_name(z)),
                               (0, 7), kind, reduction, "none", 0.1, True, zloss=z))
        j += 1
    assert all(c.zloss != 0 for c in cases)
    return cases


SOFTCAPS = (1.0, 2.5, 5.0, 30.0)  # exact in dec's 15 digits: the C++ test parses the same doubles


def softcap_cases():
    """Logit soft-capping (ce_options::soft_cap): every kind x reduction x weights x smoothing,
    s rotating through SOFTCAPS (1 and 2.5 saturate tanh on logits of scale 3, 30 barely bends
    them), a z-loss on every third case; class counts of every kernel (tiles 2..16, 17..40,
    1000, 5000: several blocks); logits of scale 40 and 1e4 (|x / s| far above 10: the gradient
    factor 1 - tanh^2 is tiny or 0); offsets +-30; -inf masks, which the cap makes finite (-s),
    also where a target has weight or a whole row is -inf; every row ignored; a mean whose
    counted rows all have weight 0; empty batches."""
    inp = Inputs(6 + SEED_OFFSET)
    cases = []

    def num(v):
        return ("%g" % v).replace("-", "m")

    def suffix(cap, z):
        return "_s%s" % num(cap) + ("_z%s" % num(z) if z else "")

    # every option, class counts 2..16 (the tile kernels)
    k = 0
    for kind in KINDS:
        for reduction in REDUCTIONS:
            for weighted in (False, True):
                for eps in (0.0, 0.1):
                    for ignore in (("default", "inrange") if kind == "indices" else ("none",)):
                        cap = SOFTCAPS[k % 4]
                        z = ZLOSSES[(k // 3) % 4] if k % 3 == 2 else 0.0
                        shape = shape_for(inp, k, max_c=16)
                        if ignore != "none" and len(shape) == 1:
                            shape = (3,) + shape  # an unbatched sample is not ignored here
                        name = "softcap_opt_%s_%s_%s_eps%s_ign-%s%s" % (
                            kind, reduction, "w" if weighted else "now", eps, ignore,
                            suffix(cap, z))
                        cases.append(make_case(inp, name, shape, kind, reduction, ignore, eps,
                                               weighted, zero_weights=int(k % 5 == 4),
                                               zloss=z, softcap=cap))
                        k += 1
    # class counts 17..40 (the long-row kernels), 1000 and 5000 (more than 4096: several blocks)
    for C in list(range(17, 41)) + [1000, 1000, 1000, 5000]:
        kind = KINDS[k % 3] if C != 5000 else "indices"
        reduction = REDUCTIONS[(k // 3) % 3]
        weighted = (k // 2) % 2 == 1
        eps = SMOOTHINGS[(k // 5) % 4]
        cap = SOFTCAPS[(k // 7) % 4] if C < 1000 else SOFTCAPS[k % 4]
        z = ZLOSSES[(k // 3) % 4] if k % 3 == 0 else 0.0
        ignore = ("default", "inrange")[k % 2] if kind == "indices" else "none"
        if C == 5000:
            shape = (2, C)
        elif C == 1000:
            shape = (3, C) if k % 2 else (1, 2, C)
        else:
            shape = (int(inp.rng.integers(1, 7)), C) if k % 3 else (2, 2, C)
        name = "softcap_C%d_%s_%s_%s_eps%s_ign-%s%s" % (
            C, kind, reduction, "w" if weighted else "now", eps, ignore, suffix(cap, z))
        cases.append(make_case(inp, name, shape, kind, reduction, ignore, eps, weighted,
                               scale=float(1 + k % 4), sparse_targets=0.5 * (k % 2), zloss=z,
                               softcap=cap))
        k += 1
    # large logits: scale 40 (|x / s| up to about 100 with s = 1: tanh saturates, the gradient
    # factor is far below 1 or 0 in float64), every cap; scale 1e4 (every logit but the ones
    # near 0 saturated: the capped rows are nearly +-s), a z-loss on some
    j = 0
    for kind in KINDS:
        for reduction in REDUCTIONS:
            for cap in ((1.0, 5.0), (2.5, 30.0), (30.0, 1.0))[j % 3]:
                z = ZLOSSES[j % 4] if j % 4 == 1 else 0.0
                shape = shape_for(inp, k, max_c=24)
                ignore = "default" if kind == "indices" and j % 2 == 0 else "none"
                if ignore != "none" and len(shape) == 1:
                    shape = (3,) + shape
                weighted = j % 3 != 1
                eps = (0.0, 0.1, 0.3)[j % 3]
                name = "softcap_scale40_%s_%s_%s_eps%s%s" % (
                    kind, reduction, "w" if weighted else "now", eps, suffix(cap, z))
                cases.append(make_case(inp, name, shape, kind, reduction, ignore, eps, weighted,
                                       scale=40.0, zloss=z, softcap=cap))
                k += 1
                j += 1
    for kind, reduction, cap, z in (("indices", "mean", 30.0, 0.0), ("probs", "none", 5.0, 0.0),
                                    ("onehot", "sum", 30.0, 0.01)):
        name = "softcap_scale1e4_%s_%s%s" % (kind, reduction, suffix(cap, z))
        cases.append(make_case(inp, name, (5, 13), kind, reduction, "none", 0.1, True,
                               scale=1e4, zloss=z, softcap=cap))
    # large offsets: every logit near +-30, the capped rows nearly equal (s = 2.5 and 5) or
    # bent (s = 30), with a z-loss whose lse is about +-s
    for kind in KINDS:
        for offset in (30.0, -30.0):
            cap = (2.5, 30.0, 5.0)[j % 3]
            z = ZLOSSES[j % 4]
            reduction = REDUCTIONS[j % 3]
            shape = shape_for(inp, k, max_c=24)
            name = "softcap_offset%+d_%s_%s%s" % (int(offset), kind, reduction, suffix(cap, z))
            cases.append(make_case(inp, name, shape, kind, reduction,
                                   "default" if kind == "indices" and len(shape) > 1 else "none",
                                   0.1, j % 2 == 0, offset=offset, zloss=z, softcap=cap))
            k += 1
            j += 1
    # -inf masks: capped to -s, finite, so torch's result is finite (source torch) and the
    # masked columns share the softmax; as in the plain groups, they have weight 0 and no target
    for kind in KINDS:
        for reduction in REDUCTIONS:
            C = (8, 19, 33)[j % 3]
            masked = tuple(sorted(inp.rng.choice(C, size=max(1, C // 3), replace=False)))
            shape = ((4, C), (2, 3, C), (2, 2, 2, C))[j % 3]
            cap = SOFTCAPS[j % 4]
            z = ZLOSSES[j % 4] if j % 3 == 0 else 0.0
            eps = 0.1 if kind == "indices" else (0.0, 0.1)[j % 2]
            name = "softcap_neginf_C%d_%s_%s_eps%s%s" % (C, kind, reduction, eps, suffix(cap, z))
            cases.append(make_case(inp, name, shape, kind, reduction,
                                   "default" if kind == "indices" else "none", eps, True,
                                   mask_columns=masked, scale=4.0, zloss=z, softcap=cap))
            j += 1
    # -inf logits where the target has weight (without a cap: an infinite loss), and a row
    # whose logits are all -inf (without a cap: NaN; capped: all -s, a uniform softmax)
    for kind, reduction, cap, z in (("indices", "mean", 2.5, 0.0), ("onehot", "none", 5.0, 0.5),
                                    ("probs", "sum", 30.0, 0.0), ("indices", "none", 1.0, 0.01)):
        shape = (5, 7)
        case = make_case(inp, "softcap_neginf_target_%s_%s%s" % (kind, reduction,
                                                                  suffix(cap, z)),
                         shape, kind, reduction, "none", 0.1 if kind != "probs" else 0.0,
                         kind == "indices", scale=3.0, zloss=z, softcap=cap)
        x = case.logits.copy()
        x[1, :] = -np.inf                 # a whole row
        if kind == "probs":
            x[0, np.argmax(case.targets[0])] = -np.inf
            x[2, np.argmax(case.targets[2])] = -np.inf
            x[3, :3] = -np.inf
        else:
            x[0, case.labels[0]] = -np.inf  # the labelled class
            x[2, case.labels[2]] = -np.inf
            x[3, (case.labels[3] + 1) % 7] = -np.inf
        case.logits = x
        cases.append(case)
    # every row ignored: no loss and no z-loss; the mean's denominator is 0 (loss 0, zero
    # gradient)
    for reduction in REDUCTIONS:
        for ignore_index, weighted in ((-100, False), (2, True)):
            if reduction != "mean" and weighted:
                continue
            shape = (4, 5) if ignore_index != 2 else (2, 3, 5)
            labels = np.full(shape[:-1], ignore_index)
            cap = SOFTCAPS[j % 4]
            z = ZLOSSES[j % 4] if j % 2 else 0.0
            cases.append(Case("softcap_all_ignored_%s_ign%d_%s%s" % (
                reduction, ignore_index, "w" if weighted else "now", suffix(cap, z)), shape,
                "indices", reduction, inp.logits(shape, scale=10.0), labels=labels,
                ignore_index=ignore_index, smoothing=0.1 if weighted else 0.0,
                weights=inp.weights(5) if weighted else None, zloss=z, softcap=cap))
            j += 1
    # every counted row's target has weight 0: the mean's denominator is 0 (loss 0, zero
    # gradient); sum and none keep the smoothing's and the z-loss's terms
    for reduction in REDUCTIONS:
        C = 6
        w = inp.weights(C)
        w[[1, 4]] = 0.0
        cap = SOFTCAPS[j % 4]
        z = ZLOSSES[j % 4] if j % 2 else 0.0
        cases.append(Case("softcap_zero_target_weights_%s%s" % (reduction, suffix(cap, z)),
                          (5, C), "indices", reduction, inp.logits((5, C), scale=6.0),
                          labels=np.array([1, 4, -100, 1, 4]), smoothing=0.1, weights=w,
                          zloss=z, softcap=cap))
        j += 1
    # empty batches
    for kind, reduction in (("indices", "mean"), ("probs", "sum"), ("onehot", "none"),
                            ("probs", "mean")):
        cap = SOFTCAPS[j % 4]
        z = ZLOSSES[j % 4] if j % 2 else 0.0
        cases.append(make_case(inp, "softcap_empty_%s_%s%s" % (kind, reduction, suffix(cap, z)),
                               (0, 7) if j % 2 else (2, 0, 7), kind, reduction, "none", 0.1,
                               True, zloss=z, softcap=cap))
        j += 1
    assert all(c.softcap != 0 for c in cases)
    return cases


CLASSES_FIRST_COUNTS = (2, 3, 5, 8, 10, 17, 21, 33)


def classes_first_cases():
    """Logits in torch's [N, C], [N, C, L] and [N, C, H, W] order (class axis 1), written
    so: class indices (some rows ignored) and probability targets, every reduction, class
    weights, label smoothing; class counts that end vector tiles and tails, L in 1..13, H and W
    in 1..7. Drawn class-last as the other groups (Case), written in torch's order."""
    inp = Inputs(7 + SEED_OFFSET)  # a generator of its own: the other groups' draws stay
    cases = []
    k = 0
    for C in CLASSES_FIRST_COUNTS:
        for form in (2, 3, 4):
            for kind in ("indices", "probs"):
                for v in range(2):
                    # rotations that shift with C (k // 12, k // 24), so that every form and
                    # kind meets every reduction, ignore_index, and weights and none
                    reduction = REDUCTIONS[(k + k // 12) % 3]
                    weighted = (v + k // 4 + k // 24) % 2 == 1
                    eps = SMOOTHINGS[1 + (k // 2 + k // 24) % 3] if v else 0.0
                    ignore = ("default", "inrange", "minus1", "none")[(k // 2 + k // 12) % 4] \
                        if kind == "indices" else "none"
                    n_min = 2 if ignore != "none" else 1  # a counted row and an ignored one
                    if form == 2:
                        batch = (int(inp.rng.integers(n_min, 9)),)
                    elif form == 3:
                        batch = (int(inp.rng.integers(n_min, 4)), int(inp.rng.integers(1, 14)))
                    else:
                        batch = (int(inp.rng.integers(n_min, 4)), int(inp.rng.integers(1, 8)),
                                 int(inp.rng.integers(1, 8)))
                    torch_shape = (batch[0], C) + batch[1:]
                    name = "cf_%s_%s_%s_%s_eps%s_ign-%s" % (
                        "x".join(map(str, torch_shape)), kind, reduction,
                        "w" if weighted else "now", eps, ignore)
                    case = make_case(inp, name, batch + (C,), kind, reduction, ignore, eps,
                                     weighted, scale=float(1 + k % 4),
                                     sparse_targets=0.5 * (k % 2))
                    case.class_axis = 1
                    cases.append(case)
                    k += 1
    return cases


GROUPS = {
    "options": options_cases,
    "classes": classes_cases,
    "hard": hard_cases,
    "edge": edge_cases,
    "zloss": zloss_cases,
    "softcap": softcap_cases,
    "classes_first": classes_first_cases,
}


def main():
    global OUT_DIR, SEED_OFFSET
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=OUT_DIR, help="output directory (default: tests/data)")
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="draw other inputs for the same cases (the committed files use 0)")
    args = parser.parse_args()
    OUT_DIR, SEED_OFFSET = args.out, args.seed_offset
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for group, make in GROUPS.items():
        cases = make()
        names = [c.name for c in cases]
        assert len(set(names)) == len(names), "duplicate case names in %s" % group
        path = os.path.join(OUT_DIR, "conformance_%s.txt" % group)
        sources = {"torch": 0, "masked": 0}
        with open(path, "w") as f:
            f.write("# shapeguard softmax cross-entropy conformance cases: %s\n" % group)
            f.write("# generated by: %s  (torch %s, float64; do not edit)\n" % (
                COMMAND, torch.__version__))
            f.write("# format: see tests/conformance/generate.py\n")
            for case in cases:
                sources[write_case(f, case)] += 1
        total += len(cases)
        print("%s: %d cases (%d from torch, %d masked), %d bytes" % (
            os.path.relpath(path), len(cases), sources["torch"], sources["masked"],
            os.path.getsize(path)))
    print("total: %d cases" % total)


if __name__ == "__main__":
    sys.exit(main())
