#!/usr/bin/env bash
# Runs each fuzz target in turn for SECONDS (default 600) on one core, keeping each
# target's libFuzzer log in logs/. Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(signatures keys annex_import loaders markdown_layout pdf_signatures)
fi
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  start=$(date +%s)
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -jobs=1 -workers=1 -rss_limit_mb=2048 -timeout=20 \
    >"logs/$t.cargo.log" 2>&1
  status=$?
  mv -f fuzz-0.log "logs/$t.log" 2>/dev/null
  end=$(date +%s)
  execs=$(grep -oE '^#[0-9]+' "logs/$t.log" | tail -1)
  echo "$t: exit $status, $((end - start)) s, last execs ${execs:-?}, corpus $(ls "corpus/$t" | wc -l) files, artifacts $(ls "artifacts/$t" | wc -l)" | tee -a logs/summary.txt
done
