#!/usr/bin/env python3
"""Markdown tables of ns per logit element from bench_sigmoid_cross_entropy's JSON output.

  bench_sigmoid_cross_entropy --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
      --benchmark_report_aggregates_only=true --benchmark_out=sigmoid.json --benchmark_out_format=json
  python3 tests/benchmark/table_sigmoid.py sigmoid.json

Two tables, one of the medians over the repetitions and one of the minima (the benchmark adds a
"min" aggregate); every ratio is taken within one table, so between figures of the same run.
Single thread; "fused" is forward+backward (loss and gradient, mean), "weighted" is fused with
pos_weight and class_weights (one per class), on both sides.
"""
import json
import sys

runs = {}  # aggregate -> name -> ns per element
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if "ns_per_elem" not in b:
        continue
    agg = b.get("aggregate_name", "median")
    if agg not in ("median", "min"):
        continue
    name = b["run_name"] if "run_name" in b else b["name"]
    name = name.replace("/real_time", "")
    runs.setdefault(agg, {})[name] = (
        b["ns_per_elem"] * 1e9 if b["ns_per_elem"] < 1e-3 else b["ns_per_elem"])

any_runs = next(iter(runs.values()))
shapes = sorted({n.split("/")[-1] for n in any_runs if n.startswith("stream/read_write/")},
                key=lambda s: int(s.split("x")[1]))  # by class count, whatever the run order

best = None
for isa in ("avx512", "avx2", "neon"):
    if any(k.startswith(f"shapeguard/{isa}/") for k in any_runs):
        best = isa
        break
best = best or "scalar"


def fmt(v):
    return "—" if v is None else (f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 10 else f"{v:.1f}")


def ratio(a, b):
    return None if a is None or b is None else a / b


def fr(r, target=None, at_least=True):
    if r is None:
        return "—"
    mark = ""
    if target is not None:
        mark = " ✓" if (r >= target if at_least else r <= target) else " ✗"
    return f"{r:.2f}x{mark}"


for agg in ("median", "min"):
    if agg not in runs:
        continue
    r = runs[agg]
    print(f"\n### {agg} over the repetitions (ns per element; ratios within this table)\n")
    print(f"| logits | sg scalar f+b | sg {best} f+b | sg {best} fwd | sg {best} weighted f+b "
          "| torch f+b | torch fwd | torch weighted f+b | stream r+w | stream r "
          "| torch f+b / sg f+b (≥5) | sg f+b / stream (≤2) | torch fwd / sg fwd "
          "| torch wtd / sg wtd | scalar / simd | exp+log1p floor | sg fwd / floor |")
    print("|---|" + "---:|" * 16)
    for s in shapes:
        t = f"/{s}/threads:1"
        scalar = r.get(f"shapeguard/scalar/fused{t}")
        fused = r.get(f"shapeguard/{best}/fused{t}")
        fwd = r.get(f"shapeguard/{best}/forward{t}")
        wtd = r.get(f"shapeguard/{best}/fused/weighted{t}")
        tf = r.get(f"torch/fused{t}")
        tfwd = r.get(f"torch/forward{t}")
        twtd = r.get(f"torch/fused/weighted{t}")
        srw = r.get(f"stream/read_write/{s}")
        srd = r.get(f"stream/read/{s}")
        flo = r.get(f"floor/exp_log1p/{s}")
        print(f"| {s} | {fmt(scalar)} | {fmt(fused)} | {fmt(fwd)} | {fmt(wtd)} | {fmt(tf)} "
              f"| {fmt(tfwd)} | {fmt(twtd)} | {fmt(srw)} | {fmt(srd)} "
              f"| {fr(ratio(tf, fused), 5)} | {fr(ratio(fused, srw), 2, at_least=False)} "
              f"| {fr(ratio(tfwd, fwd))} | {fr(ratio(twtd, wtd))} | {fr(ratio(scalar, fused))} "
              f"| {fmt(flo)} | {fr(ratio(fwd, flo))} |")
