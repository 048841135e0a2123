#!/usr/bin/env bash
# dpa against Typst's reused compiler on a comparable DPA, interleaved in one run.
#
# The Typst document is made from dpa's own composed DPA (benches/typst/: the same text,
# annex tables, clause numbers, lists, signature block, fonts and page; see
# benches/typst/compare.sh for how comparable it is). N generated customers (the ones
# benches/batch.sh generates). Each round runs, in alternating order:
#   typst    one Python process makes typst.Compiler once, compiles 5 warm-up customers
#            (not timed, not among the N), then the N customers with their values as
#            sys.inputs, each PDF written to disk; wall and CPU (getrusage) of that loop.
#   dpa      `target/release/dpa batch` over the N customers into a new folder, timed
#            whole with /usr/bin/time (process start, keys, fonts, register and fsyncs
#            included), on dpa's default number of workers (one per core).
#   inproc   (INPROC=1, the default) examples/inprocess.rs: one thread of one process,
#            warmed up with the same 5 customers, then Issuer::make per customer and its
#            files written (no register, no fsync): the like-for-like peer of the loop above.
# dpa also signs every document (the embedded PAdES signature, minisign, SSHSIG and the
# SHA-256 file) and, in the batch, writes the register; Typst only writes the PDF.
#
# Usage: benches/vs-typst.sh
#   N=200        customers per round       ROUNDS=5   rounds
#   INPROC=0     leave out the in-process dpa figures
# Needs python3 with the `typst` module, /usr/bin/time, and about N x 300 KB of disk per
# round in ${TMPDIR:-/tmp} (everything is deleted at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-200}
rounds=${ROUNDS:-5}
inproc=${INPROC:-1}
[ "$n" -ge 1 ] && [ "$n" -lt 99990 ] || { echo "error: N must be 1..99989" >&2; exit 2; }
cargo build --release --quiet --bin dpa --example document --example inprocess
work=$(mktemp -d "${TMPDIR:-/tmp}/dpa-vs-typst.XXXXXX")
trap 'rm -rf "$work"' EXIT

target/release/examples/document --customer benches/typst/customer.toml \
  --issue-date 2026-06-01 >"$work/doc.json"
python3 benches/typst/convert.py "$work/doc.json" --out "$work/dpa.typ"
benches/customers.sh 1 "$n" >"$work/customers.csv"
benches/customers.sh 99991 99995 >"$work/warmup.csv"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "dpa:     $(git rev-parse --short HEAD) $(git diff --quiet HEAD -- src && echo clean || echo '+ uncommitted src changes'), target/release/dpa"
echo "typst:   python typst $(python3 -c 'import importlib.metadata as m; print(m.version("typst"))')"
echo "N=$n customers per round, $rounds rounds, times per document in ms"

# Seconds from /usr/bin/time -v's "Elapsed (wall clock)" (h:mm:ss or m:ss.ss).
elapsed() {
  grep 'Elapsed (wall clock)' "$1" | awk '{print $NF}' |
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }'
}
# The value of key=value in a line.
field() { grep -o "$1=[0-9.]*" <<<"$2" | cut -d= -f2; }
pdfs() { find "$1" -name '*.pdf' -not -path '*/warmup/*' | wc -l; }

run_typst() {
  local out="$work/typst-$r" line
  line=$(python3 benches/typst/run.py --typ "$work/dpa.typ" --customers "$work/customers.csv" \
    --warmup-customers "$work/warmup.csv" --out "$out")
  [ "$(pdfs "$out")" -eq "$n" ] || { echo "error: Typst wrote $(pdfs "$out") PDFs, not $n" >&2; exit 1; }
  t_wall=$(field wall_ms_per_doc "$line")
  t_cpu=$(field cpu_ms_per_doc "$line")
  t_rss=$(field peak_rss_mb "$line")
}

run_dpa() {
  local out="$work/dpa-$r" t="$work/time-$r.txt" secs user sys
  /usr/bin/time -v target/release/dpa batch --customers "$work/customers.csv" --out "$out" \
    --issue-date 2026-06-01 >"$work/batch-$r.out" 2>"$t" || {
    cat "$t" >&2
    exit 1
  }
  [ "$(pdfs "$out")" -eq "$n" ] || { echo "error: dpa wrote $(pdfs "$out") PDFs, not $n" >&2; exit 1; }
  secs=$(elapsed "$t")
  user=$(grep 'User time' "$t" | awk '{print $NF}')
  sys=$(grep 'System time' "$t" | awk '{print $NF}')
  d_wall=$(awk -v s="$secs" -v n="$n" 'BEGIN { printf "%.2f", s * 1000 / n }')
  d_cpu=$(awk -v u="$user" -v y="$sys" -v n="$n" 'BEGIN { printf "%.2f", (u + y) * 1000 / n }')
  d_rss=$(grep 'Maximum resident set size' "$t" | awk '{printf "%.1f", $NF / 1024}')
}

run_inproc() {
  local out="$work/inproc-$r" line
  line=$(target/release/examples/inprocess "$work/customers.csv" "$out" "$work/warmup.csv")
  [ "$(pdfs "$out")" -eq "$n" ] || { echo "error: inprocess wrote $(pdfs "$out") PDFs" >&2; exit 1; }
  i_wall=$(field wall_ms_per_doc "$line")
  i_cpu=$(field cpu_ms_per_doc "$line")
}

echo "round load  order      | typst: wall    CPU    RSS    | dpa batch: wall  CPU    RSS   | dpa in-process: wall  CPU"
for r in $(seq 1 "$rounds"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  i_wall=- i_cpu=-
  # Alternate which goes first, so that neither always runs after the other's writes.
  if [ $((r % 2)) -eq 1 ]; then
    order="typst,dpa"
    run_typst
    run_dpa
  else
    order="dpa,typst"
    run_dpa
    run_typst
  fi
  if [ "$inproc" = 1 ]; then run_inproc; fi
  # The first customer's PDF is the same whether dpa batch or Issuer::make wrote it.
  if [ "$inproc" = 1 ] && [ "$r" -eq 1 ]; then
    cmp -s "$(find "$work/dpa-1/customer-00001" -name '*.pdf' -print -quit)" \
      "$(find "$work/inproc-1/customer-00001" -name '*.pdf' -print -quit)" ||
      { echo "error: the in-process PDF differs from dpa batch's" >&2; exit 1; }
  fi
  echo "$r $load $t_wall $t_cpu $t_rss $d_wall $d_cpu $d_rss $i_wall $i_cpu" >>"$work/rows.txt"
  printf '%-5s %-5s %-10s |        %6s %6s %5sMB |            %6s %6s %5sMB |                 %6s %6s\n' \
    "$r" "$load" "$order" "$t_wall" "$t_cpu" "$t_rss" "$d_wall" "$d_cpu" "$d_rss" "$i_wall" "$i_cpu"
  # This round's documents are no longer needed; keep the disk use to one round.
  rm -rf "$work/typst-$r" "$work/dpa-$r" "$work/inproc-$r"
done

# Medians of each column of rows.txt, and the ratios of the medians.
awk -v inproc="$inproc" '
  function median(col,   n, i, j, t, v) {
    n = 0
    for (i = 1; i <= NR; i++) v[++n] = row[i, col]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { for (c = 1; c <= NF; c++) row[NR, c] = $c; loads = loads (NR > 1 ? ", " : "") $2 }
  END {
    tw = median(3); tc = median(4); tr = median(5); dw = median(6); dc = median(7); dr = median(8)
    printf "\nmedians over %d rounds (load average per round: %s)\n", NR, loads
    printf "  typst, reused compiler      %6.2f ms wall  %6.2f ms CPU per document  peak RSS %.1f MB\n", tw, tc, tr
    printf "  dpa batch (whole process)   %6.2f ms wall  %6.2f ms CPU per document  peak RSS %.1f MB\n", dw, dc, dr
    if (inproc == 1) {
      iw = median(9); ic = median(10)
      printf "  dpa in-process, one thread  %6.2f ms wall  %6.2f ms CPU per document\n", iw, ic
    }
    printf "ratio of medians, typst / dpa:\n"
    printf "  batch:      wall %.1fx  CPU %.1fx\n", tw / dw, tc / dc
    if (inproc == 1) printf "  in-process: wall %.1fx  CPU %.1fx\n", tw / iw, tc / ic
    printf "dpa signs each document (PAdES + minisign + SSHSIG + SHA-256 file); the batch also writes the register and fsyncs. Typst writes the PDF only.\n"
  }' "$work/rows.txt"
