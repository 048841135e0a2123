#!/usr/bin/env bash
# One `dpa generate` process from start to exit (the SegMetrics DPA for Müller & Söhne,
# signed, written, recorded), timed with hyperfine in three situations:
#   fresh:      a new output folder every run (new register, new customer folder);
#   issued:     an existing register, the customer's folder removed before every run;
#   unchanged:  everything already there: the register holds these inputs and every
#               file of the set is intact, so nothing is made or written.
#
# Usage: benches/process.sh            RUNS=30 WARMUP=3 DPA=path (default target/release/dpa)
# Prints hyperfine's mean, then the median, min and max from its JSON export, and the
# load average at the start. Output goes to a folder under ${TMPDIR:-/tmp}.
set -euo pipefail
cd "$(dirname "$0")/.."
dpa=${DPA:-target/release/dpa}
if [ -z "${DPA:-}" ]; then cargo build --release --quiet; fi
runs=${RUNS:-30}
warmup=${WARMUP:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/dpa-process-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
out="$work/out"
cmd="$dpa generate --customer fixtures/customers/mueller-soehne.toml --out $out"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
summary() {
  python3 - "$1" "$2" <<'EOF'
import json, statistics, sys
r = json.load(open(sys.argv[2]))["results"][0]
t = sorted(x * 1000 for x in r["times"])
print(f"{sys.argv[1]:>9}: median {statistics.median(t):.1f} ms, min {t[0]:.1f}, max {t[-1]:.1f}, "
      f"mean {r['mean'] * 1000:.1f} ± {r['stddev'] * 1000:.1f} ms, user {r['user'] * 1000:.1f} ms, "
      f"system {r['system'] * 1000:.1f} ms ({len(t)} runs)")
EOF
}
run() {
  local name=$1
  shift
  echo "load average before $name: $(cut -d' ' -f1-3 /proc/loadavg)"
  hyperfine -N --style none -w "$warmup" -r "$runs" --export-json "$work/$name.json" "$@" "$cmd" \
    >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err"; exit 2; }
  summary "$name" "$work/$name.json" | tee -a "$work/summary.txt"
}
run fresh --prepare "rm -rf $out"
run issued --prepare "rm -rf $out/mueller-soehne"
run unchanged
echo "PDF: $(stat -c %s "$out"/mueller-soehne/*.pdf) bytes"
