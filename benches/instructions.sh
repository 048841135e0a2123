#!/usr/bin/env bash
# Instructions executed (valgrind --tool=callgrind), which unlike times do not depend on
# what else runs on the machine: for comparing a change before and after, and for the
# per-document budget of issue 19.
#
#   process:   one `dpa generate` of the SegMetrics DPA for Müller & Söhne, start to exit,
#              (a) into a new folder, (b) into a folder where it already is (the register
#              holds these inputs and every file is intact: nothing is made or written);
#   document:  the difference method: `dpa batch --jobs 1` over SMALL and LARGE generated
#              customers (as benches/batch.sh makes them), (LARGE - SMALL) / (LARGE - SMALL
#              customers) = what one more document costs inside a batch (start-up, key
#              loading and template compiling cancel out), with the functions it goes to.
#
# Two callgrind artefacts are corrected, and both raw and corrected figures printed:
#   - SHA-256: valgrind's CPU has no SHA-NI, so the sha2 crate falls back to its portable
#     code, which takes about 3,500 instructions per 64-byte block where the SHA-NI loop
#     the real CPU runs takes under 200 (both counted from the binary with objdump, below);
#     corrected = portable count x (SHA-NI instructions / portable instructions).
#   - memset: glibc clears large blocks with `rep stosb`, one instruction on the CPU that
#     valgrind counts once per byte; corrected = 40 instructions per call (the vector path
#     glibc takes for small sizes is about that long).
#
# Usage: benches/instructions.sh        SMALL=20 LARGE=60 (needs valgrind and objdump)
#        VARIED=1 benches/instructions.sh  the customers of a real list's variety
#                                         (see benches/customers.sh)
# Instruction counts are of the release build with debug line tables.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dpa=target/release/dpa
small=${SMALL:-20}
large=${LARGE:-60}
work=$(mktemp -d "${TMPDIR:-/tmp}/dpa-instructions.XXXXXX")
trap 'rm -rf "$work"' EXIT

customers() { benches/customers.sh 1 "$1" >"$2"; }

# Static instruction counts of the two SHA-256 block functions in this binary.
sha_ratio=$(objdump -d --no-show-raw-insn "$dpa" | awk '
  /^[0-9a-f]+ <.*>:$/ { name = "" }
  /^[0-9a-f]+ <_ZN4sha26sha2563x8613digest_blocks.*>:$/ { name = "ni" }
  /^[0-9a-f]+ <_ZN4sha26sha25611compress256.*>:$/ { name = "soft" }
  name != "" && /^ +[0-9a-f]+:/ { n[name]++ }
  END { if (n["ni"] && n["soft"]) printf "%.4f %d %d", n["ni"] / n["soft"], n["ni"], n["soft"]; else print "1 0 0" }')
read -r ratio ni soft <<<"$sha_ratio"
echo "SHA-256 block functions: SHA-NI $ni instructions, portable $soft (ratio $ratio)"

cg() { valgrind --tool=callgrind --callgrind-out-file="$1" "${@:2}" >/dev/null 2>&1; }

# Inclusive instructions per function name, the program total and memset's calls, as JSON.
summarise() {
  python3 - "$1" <<'EOF'
import json, re, subprocess, sys
out = sys.argv[1]
text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                      capture_output=True, text=True).stdout
incl = {}
for line in text.splitlines():
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+?):(.+?) \[", line)
    if m:
        incl[m.group(3)] = max(incl.get(m.group(3), 0), int(m.group(1).replace(",", "")))
total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", text).group(1).replace(",", ""))
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
memset = sum(v for k, v in incl.items() if "memset" in k and "erms" in k)
memset_calls = sum(v for k, v in calls.items() if k and "memset" in k and "erms" in k)
print(json.dumps({"total": total, "incl": incl, "memset": memset, "memset_calls": memset_calls}))
EOF
}

# Prints raw and corrected totals of a summary (or a difference of two) divided by `per`.
report() {
  python3 - "$1" "$2" "$3" "$ratio" "$4" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2])) if sys.argv[2] != "-" else None
per, ratio, title = float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
def get(k, d=None):
    d = d or a
    return d[k]
def diff(f):
    return (f(b) - f(a)) / per if b else f(a) / per
sha = lambda d: d["incl"].get("sha2::sha256::compress256", 0)
total = diff(lambda d: d["total"])
s = diff(sha)
m = diff(lambda d: d["memset"])
mc = diff(lambda d: d["memset_calls"])
corrected = total - s * (1 - ratio) - m + 40 * mc
print(f"{title}")
print(f"  callgrind total        {total / 1e6:8.2f} M instructions")
print(f"  of which SHA-256       {s / 1e6:8.2f} M portable -> {s * ratio / 1e6:.2f} M with SHA-NI")
print(f"  of which memset        {m / 1e6:8.2f} M in {mc:.0f} calls -> {40 * mc / 1e6:.2f} M")
print(f"  corrected              {corrected / 1e6:8.2f} M instructions")
names = ["dpa::issue::Issuer::make_from", "dpa::compose::Composer::document",
         "dpa::template::Template::render", "dpa::markup::parse", "dpa::layout::layout",
         "dpa::pdf::write", "dpa::pdf::deflate::Deflater::pack", "dpa::pdf::embed_fonts",
         "dpa::issue::keys::KeySet::embed", "dpa::sign::sign_hashed", "dpa::batch::stage",
         "dpa::template::TemplateFile::read", "dpa::template::TemplateFile::read_lazy",
         "dpa::template::Template::compile", "dpa::pdf::Typesetter::new",
         "dpa::issue::keys::KeySet::load", "dpa::register::Register::open",
         "dpa::issue::session::Session::commit_what_fits"]
for n in names:
    v = diff(lambda d: d["incl"].get(n, 0))
    if abs(v) >= 5e4:
        print(f"  {v / 1e6:8.2f} M  {n}")
EOF
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
args=(--customer fixtures/customers/mueller-soehne.toml)
cg "$work/fresh.cg" "$dpa" generate "${args[@]}" --out "$work/fresh"
summarise "$work/fresh.cg" >"$work/fresh.json"
report "$work/fresh.json" - 1 "process: dpa generate into a new folder"
cg "$work/again.cg" "$dpa" generate "${args[@]}" --out "$work/fresh"
summarise "$work/again.cg" >"$work/again.json"
report "$work/again.json" - 1 "process: dpa generate, document already there (nothing written)"

customers "$small" "$work/small.csv"
customers "$large" "$work/large.csv"
cg "$work/small.cg" "$dpa" batch --customers "$work/small.csv" --out "$work/small" --jobs 1
cg "$work/large.cg" "$dpa" batch --customers "$work/large.csv" --out "$work/large" --jobs 1
summarise "$work/small.cg" >"$work/small.json"
summarise "$work/large.cg" >"$work/large.json"
report "$work/small.json" "$work/large.json" "$((large - small))" \
  "document: one more signed DPA in a batch (--jobs 1, $large - $small customers)"
