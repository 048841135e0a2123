#!/usr/bin/env bash
# Imports the three real vendor pages in ../shared/vendor-pages with the built `dpa` and
# compares each with its hand-made fixture annex, as tests/import_vs_fixtures.rs does with
# the re-created pages in tests/data/vendor-pages (the real pages are not in the
# repository). Same providers in the same sections; the same locations, websites,
# certifications, remarks, transfer safeguards, access scopes, activation and features.
# Allowed, editorial differences: function wording, section titles and descriptions, the
# feature names of opt-in providers, the placeholder for a location the page does not
# state, and Caplena's Google Cloud access remark (the fixture moved it from the prose into
# has_access).
#
# Usage: scripts/check-real-vendor-pages.sh [PAGES_DIR] [DPA_BINARY]
# Exit 0: all match; 1: a difference (printed); 2: the pages or the binary are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
pages="${1:-../shared/vendor-pages}"
dpa="${2:-target/release/dpa}"
if [ ! -d "$pages" ]; then
  echo "error: $pages not found (the real pages live beside the checkout, in ../shared)" >&2
  exit 2
fi
if [ ! -x "$dpa" ]; then
  echo "error: $dpa not built (cargo build --release)" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

status=0
check() { # page vendor-dir vendor-name [effective]
  local page="$1" dir="$2" name="$3" effective="${4:-}"
  local args=(annex import "$pages/$page" --vendor "$name" --out "$work/$dir.toml")
  [ -n "$effective" ] && args+=(--effective "$effective")
  if ! "$dpa" "${args[@]}" 2>"$work/$dir.log"; then
    echo "FAIL $page: import failed"; cat "$work/$dir.log"; status=1; return
  fi
  if python3 - "fixtures/$dir/annex.toml" "$work/$dir.toml" "$dir" <<'PY'
import sys, tomllib
fixture = tomllib.load(open(sys.argv[1], "rb"))
got = tomllib.load(open(sys.argv[2], "rb"))
vendor = sys.argv[3]
problems = []
for key in ("version", "effective"):
    if fixture[key] != got[key]:
        problems.append(f"{key}: {fixture[key]} -> {got[key]}")
fs, gs = fixture["section"], got["section"]
if len(fs) != len(gs):
    problems.append(f"{len(fs)} sections in the fixture, {len(gs)} imported")
for a, b in zip(fs, gs):
    if a.get("subprocessors", True) != b.get("subprocessors", True):
        problems.append(f"section {b['title']!r}: subprocessors differs")
    names = lambda s: [e["name"].lower() for e in s["entry"]]
    if names(a) != names(b):
        problems.append(f"section {b['title']!r}: providers {names(b)} instead of {names(a)}")
def entries(annex):
    return {e["name"].lower(): e for s in annex["section"] for e in s["entry"]}
def location(e):
    loc = e["location"]
    return "(not stated)" if loc.startswith("Not stated") else loc.rstrip(".")
mine = entries(got)
for name, want in entries(fixture).items():
    have = mine.get(name)
    if have is None:
        continue
    checks = [("location", location(want), location(have))]
    for field in ("website", "activation", "no_access"):
        checks.append((field, want.get(field), have.get(field)))
    for field in ("certifications", "remarks", "transfer_mechanism"):
        checks.append((field, want.get(field, []), have.get(field, [])))
    strip = lambda v: v.rstrip(".") if v else v
    checks.append(("legal_address", strip(want.get("legal_address")), strip(have.get("legal_address"))))
    if not (vendor == "caplena" and name == "google cloud"):
        checks.append(("has_access", want.get("has_access"), have.get("has_access")))
    for field, w, h in checks:
        if field == "activation":
            w, h = w or "always", h or "always"
        if w != h:
            problems.append(f"{name}: {field}: fixture {w!r}, imported {h!r}")
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
  then
    echo "ok   $page matches fixtures/$dir/annex.toml"
  else
    echo "FAIL $page differs from fixtures/$dir/annex.toml (above)"; status=1
  fi
}

check segmetrics-subprocessors.txt segmetrics "SegMetrics, Inc."
check postgres-ai-subprocessors.md postgres-ai "Postgres.ai"
# The page carries no date: the fixture's (fictitious) effective date is given.
check caplena-third-party-services.md caplena "Caplena" 2026-05-20
exit "$status"
