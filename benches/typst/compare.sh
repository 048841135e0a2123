#!/usr/bin/env bash
# Is the Typst document comparable with dpa's? Makes both for one generated customer and
# prints what a reader would compare: pages, words (pdftotext | wc -w), the tagged
# structure (tables, rows, cells, headings, lists) and the size; checks that the Typst
# document took the customer from sys.inputs.
#
# Usage: benches/typst/compare.sh [PNG_DIR]
#   PNG_DIR   if given, page 1 and the first annex table page of each PDF are rendered
#             there at 60 dpi (pdftoppm), to look at side by side.
#   I=n       the generated customer (default 42), as benches/vs-typst.sh makes them.
set -euo pipefail
cd "$(dirname "$0")/../.."
i=${I:-42}
cargo build --release --quiet --bin dpa --example document
work=$(mktemp -d "${TMPDIR:-/tmp}/dpa-typst-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The Typst source, from dpa's own composed document for the placeholder customer.
target/release/examples/document --customer benches/typst/customer.toml \
  --issue-date 2026-06-01 >"$work/doc.json"
python3 benches/typst/convert.py "$work/doc.json" --out "$work/dpa.typ"

# Customer i, as one CSV row for dpa and as sys.inputs for Typst.
benches/customers.sh "$i" "$i" >"$work/one.csv"
target/release/dpa batch --customers "$work/one.csv" --out "$work/dpa-out" \
  --issue-date 2026-06-01 >/dev/null 2>"$work/batch.err" || { cat "$work/batch.err" >&2; exit 2; }
dpa_pdf=$(find "$work/dpa-out" -name '*.pdf' -print -quit)
python3 benches/typst/run.py --typ "$work/dpa.typ" --customers "$work/one.csv" \
  --out "$work/typst-out" --warmup 0 >/dev/null
typst_pdf="$work/typst-out/customer-$(printf %05d "$i").pdf"
# The same without the specimen mark, for the word count: Typst sets the mark as text,
# which pdftotext extracts as about nine words a page; dpa draws it as outlines.
python3 benches/typst/run.py --typ "$work/dpa.typ" --customers "$work/one.csv" \
  --out "$work/typst-nomark" --warmup 0 --no-mark >/dev/null
typst_nomark="$work/typst-nomark/customer-$(printf %05d "$i").pdf"

# The customer's own values must be in the Typst PDF, and the placeholder's must not.
text=$(pdftotext "$typst_pdf" - | tr -d '\342\200\213')
for want in "Customer $(printf %05d "$i") GmbH" "Hauptstraße $i, 10115 Berlin" "privacy$i@customer.example" \
  "customer-$(printf %05d "$i")"; do
  grep -qF "$want" <<<"$text" || { echo "error: the Typst PDF lacks \`$want\`" >&2; exit 1; }
done
if grep -qE "Customer 00000|customer-00000|privacy0@|Hauptstraße 0," <<<"$text"; then
  echo "error: the Typst PDF still names the placeholder customer 00000" >&2
  exit 1
fi

# Counts of structure elements in the tag tree (pdfinfo -struct), as "name=count".
structure() {
  pdfinfo -struct "$1" 2>/dev/null | awk '{sub(/:$/, "", $1); print $1}' | grep -xE 'Table|TR|TH|TD|H1|H2|L|LI|P' |
    sort | uniq -c | awk '{printf "%s=%s ", $2, $1}'
}
row() {
  local name=$1 pdf=$2
  printf '%-6s pages=%s words=%s bytes=%s fonts=%s\n       structure: %s\n' "$name" \
    "$(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')" \
    "$(pdftotext "$pdf" - | wc -w)" "$(stat -c %s "$pdf")" \
    "$(pdffonts "$pdf" 2>/dev/null | tail -n +3 | awk '{print $1}' | sed 's/^[A-Z]*+//' | sort | paste -sd, -)" \
    "$(structure "$pdf")"
}
echo "customer-$(printf %05d "$i"), issued 2026-06-01"
row dpa "$dpa_pdf"
row typst "$typst_pdf"
echo "typst without the mark: words=$(pdftotext "$typst_nomark" - | wc -w)"

if [ $# -gt 0 ]; then
  mkdir -p "$1"
  # The first page whose text names the annex table's header.
  annex_page() { for p in $(seq 1 "$(pdfinfo "$1" 2>/dev/null | awk '/^Pages:/ {print $2}')"); do
    pdftotext -f "$p" -l "$p" "$1" - | grep -q '^Certifications' && { echo "$p"; return; }; done; echo 1; }
  for pair in "dpa:$dpa_pdf" "typst:$typst_pdf"; do
    name=${pair%%:*} pdf=${pair#*:}
    pdftoppm -png -r 60 -f 1 -l 1 "$pdf" "$1/$name-first"
    p=$(annex_page "$pdf")
    pdftoppm -png -r 60 -f "$p" -l "$p" "$pdf" "$1/$name-annex"
  done
  echo "pages rendered in $1"
fi
