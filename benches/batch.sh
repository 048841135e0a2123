#!/usr/bin/env bash
# Batch throughput and peak memory: one `dpa batch` run over N generated customers (a CSV),
# signed DPAs written to a fresh output folder, timed with /usr/bin/time -v.
#
# Usage: benches/batch.sh [N ...]            (default: 1000 10000)
#   RUNS=3        runs per N; the summary gives the median and the range
#   DPA=path      the binary to time (default: target/release/dpa, built first)
#   JOBS=n        passed as --jobs (default: dpa's own, one worker per core)
#   VARIED=1      customers with varied names and addresses (see benches/customers.sh)
#
# Every run writes to its own new folder and nothing is deleted until the script ends:
# on this machine's ext4 (no journal) creating files right after deleting many costs
# extra kernel time (new inodes skip recently deleted ones), which would be charged to
# the next run. Needs about N x 45 KB of disk per run.
set -euo pipefail
cd "$(dirname "$0")/.."
dpa=${DPA:-target/release/dpa}
if [ -z "${DPA:-}" ]; then cargo build --release --quiet; fi
runs=${RUNS:-3}
counts=("$@")
[ "${#counts[@]}" -gt 0 ] || counts=(1000 10000)
jobs=()
[ -n "${JOBS:-}" ] && jobs=(--jobs "$JOBS")
work=$(mktemp -d "${TMPDIR:-/tmp}/dpa-batch-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "binary:  $dpa ($(stat -c %y "$dpa" | cut -d. -f1))"
for n in "${counts[@]}"; do
  csv="$work/customers-$n.csv"
  benches/customers.sh 1 "$n" >"$csv"
  for r in $(seq 1 "$runs"); do
    out="$work/out-$n-$r"
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    code=0
    /usr/bin/time -v "$dpa" batch --customers "$csv" --out "$out" "${jobs[@]}" \
      >"$work/stdout-$n-$r.txt" 2>"$work/time-$n-$r.txt" || code=$?
    t="$work/time-$n-$r.txt"
    secs=$(grep 'Elapsed (wall clock)' "$t" | awk '{print $NF}' |
      awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    user=$(grep 'User time' "$t" | awk '{print $NF}')
    sys=$(grep 'System time' "$t" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$t" | awk '{print $NF}')
    pdfs=$(find "$out" -name '*.pdf' | wc -l)
    # -quit, not a pipe into head: under pipefail find's SIGPIPE would end the script.
    first=$(find "$out" -name '*.pdf' -print -quit)
    size=$([ -n "$first" ] && stat -c %s "$first" || echo 0)
    awk -v n="$n" -v r="$r" -v p="$pdfs" -v s="$secs" -v u="$user" -v y="$sys" -v m="$rss" \
      -v z="$size" -v c="$code" -v l="$load" 'BEGIN {
      printf "N=%d run=%d exit=%d pdfs=%d wall=%.2fs docs/s=%.0f cpu/doc=%.2fms (user %.2f + sys %.2f) peak_rss=%.1fMB pdf=%dB load=%s\n",
        n, r, c, p, s, p / s, (u + y) * 1000 / p, u * 1000 / p, y * 1000 / p, m / 1024, z, l }' |
      tee -a "$work/results.txt"
  done
done
echo "summary (median [min..max] over $runs runs):"
# The median of the numbers on stdin, with the range.
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%s [%s..%s]", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
for n in "${counts[@]}"; do
  rows=$(grep "^N=$n " "$work/results.txt")
  docs=$(grep -o 'docs/s=[0-9.]*' <<<"$rows" | cut -d= -f2 | median)
  cpu=$(grep -o 'cpu/doc=[0-9.]*' <<<"$rows" | cut -d= -f2 | median)
  rss=$(grep -o 'peak_rss=[0-9.]*' <<<"$rows" | cut -d= -f2 | median)
  echo "  N=$n: $docs docs/s, CPU $cpu ms/doc, peak RSS $rss MB"
done
