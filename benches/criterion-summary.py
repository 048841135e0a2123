#!/usr/bin/env python3
"""Prints criterion's last results as a Markdown table: median, median absolute deviation,
and the fastest sample (per iteration), which on a shared machine is the closest to what
the code costs without contention.

Usage: python3 benches/criterion-summary.py [GROUP ...]   (after `cargo bench`; reads
target/criterion/<group>/<bench>/new/{estimates,sample}.json)
"""

import json
import os
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion")
groups = sys.argv[1:] or sorted(os.listdir(root))


def fmt(ns):
    return f"{ns / 1e6:.2f} ms" if ns >= 1e6 else f"{ns / 1e3:.0f} µs"


print("| bench | median | MAD | fastest sample | samples |")
print("|-------|-------:|----:|---------------:|--------:|")
for group in groups:
    gdir = os.path.join(root, group)
    if not os.path.isdir(gdir):
        continue
    for bench in sorted(os.listdir(gdir)):
        new = os.path.join(gdir, bench, "new")
        if not os.path.isfile(os.path.join(new, "estimates.json")):
            continue
        est = json.load(open(os.path.join(new, "estimates.json")))
        sample = json.load(open(os.path.join(new, "sample.json")))
        per_iter = [t / n for t, n in zip(sample["times"], sample["iters"])]
        name = json.load(open(os.path.join(new, "benchmark.json")))["full_id"]
        print(
            f"| `{name}` | {fmt(est['median']['point_estimate'])} "
            f"| {fmt(est['median_abs_dev']['point_estimate'])} | {fmt(min(per_iter))} "
            f"| {len(per_iter)} |"
        )
