#!/usr/bin/env python3
"""Markdown table of ns per logit element from bench_softmax_cross_entropy's JSON output.

  bench_softmax_cross_entropy --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true \
      --benchmark_report_aggregates_only=true --benchmark_out=bench.json --benchmark_out_format=json
  python3 tests/benchmark/table.py bench.json

Each figure is the median over the repetitions; single-thread fused forward+backward unless
the column says otherwise. A second table sets the best set's fused and forward calls beside
oneDNN's and XNNPACK's softmax forward, the compute floor and libtorch; a third, the options
(label smoothing, class weights, probability targets) and two threads against the plain call.
"""
import json
import sys

runs = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name", "median") != "median" or "ns_per_elem" not in b:
        continue
    name = b["run_name"] if "run_name" in b else b["name"]
    name = name.replace("/real_time", "")
    runs[name] = b["ns_per_elem"] * 1e9 if b["ns_per_elem"] < 1e-3 else b["ns_per_elem"]

shapes = []
for name in runs:
    parts = name.split("/")
    if parts[:2] == ["stream", "read_write"] and len(parts) == 3:
        shapes.append(parts[2])
shapes.sort(key=lambda s: int(s.split("x")[1]))  # by class count, whatever the run order


def get(key):
    return runs.get(key)


def fmt(v):
    return "—" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}")


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.1f}x"


best = None
for isa in ("avx512", "avx2", "neon"):
    if any(k.startswith(f"shapeguard/{isa}/") for k in runs):
        best = isa
        break

print(f"| logits | scalar | avx2 | avx512 | {best} fwd only | {best} 2 thr | libtorch fwd+bwd "
      f"| stream r+w | vs libtorch | vs scalar | vs stream |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in shapes:
    fused = {isa: get(f"shapeguard/{isa}/fused/{s}/threads:1") for isa in ("scalar", "avx2", "avx512", "neon")}
    b = fused[best]
    fwd = get(f"shapeguard/{best}/forward/{s}/threads:1")
    two = get(f"shapeguard/{best}/fused/{s}/threads:2")
    torch = get(f"torch/fused/{s}/threads:1")
    stream = get(f"stream/read_write/{s}")
    print(f"| {s} | {fmt(fused['scalar'])} | {fmt(fused['avx2'])} | {fmt(fused['avx512'])} | "
          f"{fmt(fwd)} | {fmt(two)} | {fmt(torch)} | {fmt(stream)} | {ratio(torch, b)} faster | "
          f"{ratio(fused['scalar'], b)} faster | {ratio(b, stream)} of it |")


def ratio2(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}x"


print()
print(f"| logits | {best} fused | {best} fwd | exp floor | oneDNN softmax fwd | XNNPACK softmax fwd "
      f"| libtorch f+b | stream r+w | fused vs oneDNN fwd | fused vs libtorch | fused vs stream "
      f"| fwd vs floor |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in shapes:
    b = get(f"shapeguard/{best}/fused/{s}/threads:1")
    fwd = get(f"shapeguard/{best}/forward/{s}/threads:1")
    floor = get(f"floor/exp_sum/{best}/{s}")
    dnnl = get(f"onednn/softmax_forward/{s}/threads:1")
    xnn = get(f"xnnpack/softmax_forward/{s}/threads:1")
    torch = get(f"torch/fused/{s}/threads:1")
    stream = get(f"stream/read_write/{s}")
    print(f"| {s} | {fmt(b)} | {fmt(fwd)} | {fmt(floor)} | {fmt(dnnl)} | {fmt(xnn)} | {fmt(torch)} "
          f"| {fmt(stream)} | {ratio2(dnnl, b)} faster | {ratio(torch, b)} faster "
          f"| {ratio2(b, stream)} of it | {ratio2(fwd, floor)} of it |")

print()
print(f"| logits | set | plain | smoothing 0.1 | class weights | probabilities | libtorch probabilities "
      f"| 2 threads | smoothing vs plain | weights vs plain | probabilities vs libtorch "
      f"| 2 threads vs 1 |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in shapes:
    for isa in ("avx512", "avx2", "neon"):
        plain = get(f"shapeguard/{isa}/fused/{s}/threads:1")
        if plain is None:
            continue
        smooth = get(f"shapeguard/{isa}/fused/smoothing/{s}/threads:1")
        weights = get(f"shapeguard/{isa}/fused/weights/{s}/threads:1")
        prob = get(f"shapeguard/{isa}/fused/probabilities/{s}/threads:1")
        tprob = get(f"torch/fused/probabilities/{s}/threads:1")
        two = get(f"shapeguard/{isa}/fused/{s}/threads:2")
        print(f"| {s} | {isa} | {fmt(plain)} | {fmt(smooth)} | {fmt(weights)} | {fmt(prob)} "
              f"| {fmt(tprob)} | {fmt(two)} | {ratio2(smooth, plain)} | {ratio2(weights, plain)} "
              f"| {ratio(tprob, prob)} faster | {ratio2(plain, two)} faster |")

for isa in ("avx512", "avx2", "neon"):
    static = get(f"shapeguard/{isa}/fused/static/8192x10/threads:1")
    plain = get(f"shapeguard/{isa}/fused/8192x10/threads:1")
    if static is not None and plain is not None:
        print(f"\n8192x10 with the class count in the type ({isa}): {fmt(static)} against "
              f"{fmt(plain)} dynamic ({ratio2(static, plain)} of its time)")
