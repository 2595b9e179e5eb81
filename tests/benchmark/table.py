#!/usr/bin/env python3
"""Markdown table of ns per logit element from bench_softmax_cross_entropy's JSON output.

  bench_softmax_cross_entropy --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true \
      --benchmark_report_aggregates_only=true --benchmark_out=bench.json --benchmark_out_format=json
  python3 tests/benchmark/table.py bench.json

Each figure is the median over the repetitions; single-thread fused forward+backward unless
the column says otherwise.
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
    if name.startswith("stream/read_write/"):
        shapes.append(name.split("/")[-1])
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
