#!/usr/bin/env python3
"""Sets one Typst document for many customers with one reused Typst compiler and times it.

In: the .typ file benches/typst/convert.py made, a customers CSV in dpa's batch format
(benches/customers.sh), an output folder. The compiler is made once (fonts from the
repository's fonts/ only, no system fonts), warmed up with the --warmup-customers CSV
(customers that are not timed, so no timed document repeats a warmed one), then every
customer of --customers is compiled with its values as sys.inputs and written to
OUT/<id>.pdf. Out: one line on stdout,

    typst docs=200 wall_ms_per_doc=21.3 cpu_ms_per_doc=20.9 user_ms=... sys_ms=... peak_rss_mb=120.1 pdf_bytes=...

wall from time.perf_counter around the timed loop, CPU from getrusage(RUSAGE_SELF) (all
threads of this process) over the same loop, peak RSS of the whole process.
"""

import argparse
import csv
import os
import resource
import sys
import time
from datetime import datetime, timezone

import typst

# The issue date the dpa side is given (--issue-date 2026-06-01), as Typst's timestamp,
# so that nothing in the PDFs comes from the clock.
ISSUED = int(datetime(2026, 6, 1, tzinfo=timezone.utc).timestamp())


def customers(path):
    """The sys.inputs of every customer in a dpa batch CSV, with its id."""
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield {
                "id": row["id"],
                "legal_name": row["legal_name"],
                "address": row["address"],
                "email": row["email"],
                "signatory_name": row["signatory_name"],
                "signatory_title": row["signatory_title"],
            }


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--typ", required=True, help="the Typst document (convert.py's output)")
    ap.add_argument("--customers", required=True, help="customers CSV to time")
    ap.add_argument("--warmup-customers", help="customers CSV compiled first, untimed")
    ap.add_argument("--warmup", type=int, default=5, help="how many warm-up documents (default 5)")
    ap.add_argument("--out", required=True, help="folder for the PDFs (created)")
    ap.add_argument("--fonts", default=os.path.join(root, "fonts"))
    ap.add_argument("--no-mark", action="store_true", help="leave out the specimen mark")
    args = ap.parse_args()

    timed = list(customers(args.customers))
    if args.no_mark:
        for c in timed:
            c["mark"] = "off"
    warm = list(customers(args.warmup_customers))[: args.warmup] if args.warmup_customers else []
    if args.warmup > len(warm) and args.warmup > 0:
        sys.exit(f"error: --warmup {args.warmup} needs that many rows in --warmup-customers")
    if not timed:
        sys.exit(f"error: {args.customers}: no customers")
    os.makedirs(os.path.join(args.out, "warmup"), exist_ok=True)

    compiler = typst.Compiler(args.typ, font_paths=[args.fonts], ignore_system_fonts=True)
    for c in warm:
        compiler.compile(
            output=os.path.join(args.out, "warmup", c["id"] + ".pdf"), sys_inputs=c, timestamp=ISSUED
        )

    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for c in timed:
        compiler.compile(
            output=os.path.join(args.out, c["id"] + ".pdf"), sys_inputs=c, timestamp=ISSUED
        )
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)

    n = len(timed)
    user = (r1.ru_utime - r0.ru_utime) * 1000 / n
    system = (r1.ru_stime - r0.ru_stime) * 1000 / n
    size = os.path.getsize(os.path.join(args.out, timed[0]["id"] + ".pdf"))
    print(
        f"typst docs={n} wall_ms_per_doc={wall * 1000 / n:.2f} cpu_ms_per_doc={user + system:.2f} "
        f"user_ms={user:.2f} sys_ms={system:.2f} peak_rss_mb={r1.ru_maxrss / 1024:.1f} pdf_bytes={size}"
    )


if __name__ == "__main__":
    main()
