#!/usr/bin/env bash
# Instructions executed (valgrind --tool=callgrind), which unlike times do not depend on
# what else runs on the machine: for comparing a change before and after.
#
#   process:   one `dpa generate` of the SegMetrics DPA for Müller & Söhne, start to exit,
#              into a folder where it already is (rendered and signed, nothing written);
#   document:  `Setup::dpa` in-process (the criterion bench `generate/dpa` run under
#              callgrind), per document, with the steps inside it.
#
# Usage: benches/instructions.sh          (needs valgrind; builds the release binary and
# the bench). Instruction counts are of the release build with debug line tables.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bench=$(cargo bench --bench generate --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "generate" and m.get("executable"):
        print(m["executable"])')
work=$(mktemp -d "${TMPDIR:-/tmp}/dpa-instructions.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Inclusive instructions and calls per function from a callgrind output file.
report() {
  python3 - "$@" <<'EOF'
import re, subprocess, sys
out, per, names = sys.argv[1], sys.argv[2], sys.argv[3:]
text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                      capture_output=True, text=True).stdout
incl = {}
for line in text.splitlines():
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+?):(\S+) \[", line)
    if m:
        incl[m.group(3)] = max(incl.get(m.group(3), 0), int(m.group(1).replace(",", "")))
total = re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", text)
calls, ids, lines = {}, {}, open(out).read().split("\n")
for i, l in enumerate(lines):
    m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", l)
    if m:
        if m.group(3):
            ids[m.group(2)] = m.group(3)
        c = re.match(r"calls=(\d+)", lines[i + 1]) if m.group(1) == "cfn" else None
        if c:
            name = ids.get(m.group(2))
            calls[name] = calls.get(name, 0) + int(c.group(1))
div = calls.get(per, 1) if per != "-" else 1
print(f"  total {int(total.group(1).replace(',', '')) / div / 1e6:8.2f} M instructions"
      + (f" per call of {per} ({div} calls)" if per != "-" else ""))
for n in names:
    if n in incl:
        print(f"  {incl[n] / div / 1e6:8.2f} M  {n}")
EOF
}

out="$work/out"
target/release/dpa generate --customer fixtures/customers/mueller-soehne.toml --out "$out" >/dev/null 2>&1
valgrind --tool=callgrind --callgrind-out-file="$work/process.cg" \
  target/release/dpa generate --customer fixtures/customers/mueller-soehne.toml --out "$out" \
  >/dev/null 2>&1
echo "process (dpa generate, document already there):"
report "$work/process.cg" - dpa::cmd::build_setup dpa::generate::load_template \
  dpa::template::Template::new dpa::pdf::Typesetter::new dpa::load::customer_for \
  dpa::generate::Setup::dpa dpa::generate::Setup::write dpa::register::Register::open

valgrind --tool=callgrind --callgrind-out-file="$work/document.cg" \
  --toggle-collect='dpa::generate::Setup::dpa' \
  "$bench" --bench --profile-time 2 'generate/dpa$' >/dev/null 2>&1
echo "document (Setup::dpa in-process; valgrind has no SHA-NI, so SHA-256 counts high):"
report "$work/document.cg" dpa::pdf::Typesetter::render dpa::generate::Setup::dpa \
  dpa::assemble::dpa dpa::template::Template::render dpa::markup::parse \
  dpa::pdf::Typesetter::render dpa::layout::layout dpa::pdf::write_pdf \
  zlib_rs::deflate::deflate zlib_rs::deflate::reset zlib_rs::deflate::State::init_block \
  dpa::pdf::embed_fonts dpa::sign::sign_hashed dpa::sign::minisign::sign \
  dpa::generate::Setup::inputs_digest
