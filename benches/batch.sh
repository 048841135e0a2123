#!/usr/bin/env bash
# Batch throughput and peak memory: N generated customers, signed DPAs, one `dpa batch` run.
# Usage: benches/batch.sh [N ...]   (default: 1000 10000); needs a release build.
# Prints documents per second and peak RSS from /usr/bin/time -v for each N.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
counts=("$@")
[ "${#counts[@]}" -gt 0 ] || counts=(1000 10000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in "${counts[@]}"; do
  csv="$work/customers-$n.csv"
  echo "id,legal_name,address,country,email,effective,signatory_name,signatory_title,features" >"$csv"
  for i in $(seq 1 "$n"); do
    printf 'customer-%05d,Customer %05d GmbH,"Hauptstraße %d, 10115 Berlin, Germany",DE,privacy%d@customer.example,2026-06-01,Erika Mustermann,Managing Director,\n' "$i" "$i" "$i" "$i" >>"$csv"
  done
  out="$work/out-$n"
  /usr/bin/time -v target/release/dpa batch --customers "$csv" --out "$out" 2>"$work/time-$n.txt" >/dev/null || true
  secs=$(grep 'Elapsed (wall clock)' "$work/time-$n.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep 'Maximum resident set size' "$work/time-$n.txt" | awk '{print $NF}')
  pdfs=$(find "$out" -name '*.pdf' | wc -l)
  # -quit, not a pipe into head: under pipefail find's SIGPIPE would end the script.
  size=$(stat -c %s "$(find "$out" -name '*.pdf' -print -quit)")
  awk -v n="$n" -v p="$pdfs" -v s="$secs" -v r="$rss" -v z="$size" 'BEGIN {
    printf "customers=%d pdfs=%d wall=%.2fs docs_per_s=%.0f peak_rss=%.1fMB pdf_bytes=%d\n", n, p, s, p/s, r/1024, z }'
done
