#!/usr/bin/env python3
"""Turns one customer's DPA, as dpa composes it, into a Typst document for the comparison.

In: the JSON that `cargo run --release --example document -- --customer
benches/typst/customer.toml` prints (dpa's blocks before layout: headings, paragraphs with
their bold/italic runs, lettered lists, the annex tables, the signature block, the footer
and the specimen mark). Out: Typst markup on stdout (or to --out) that sets the same text
with the same fonts and a similar page (A4, 72 pt margins, 11 pt Liberation Serif,
justified and hyphenated, clause numbers in a hanging column, a running footer with
"Page N of M", the mark on every page, the annex JSON attached).

Every value of the customer the JSON was made for (legal name, address, e-mail, id,
signatory) is replaced by a lookup in `sys.inputs`, so one reused Typst compiler sets the
document for any customer; without inputs the document is the one it was made from. A
value that does not occur in the text is an error: the comparison would silently set the
same customer every time.

    python3 benches/typst/convert.py doc.json --out dpa.typ
"""

import argparse
import json
import re
import sys

# The customer fields a document may contain, in the order they are replaced (longest
# values first, so that no value is cut by a shorter one it contains).
FIELDS = ["legal_name", "address", "email", "id", "signatory_name", "signatory_title"]

# Characters that mean something in Typst markup; a backslash makes each print as itself.
# Quotes are escaped too: dpa prints the quotes its text has, Typst would curl straight ones.
SPECIAL = set("\\/*_#[]$`<>@=-+~'\".():{}")

ZWSP = "\u200b"

CLAUSE = re.compile(r"^\d+\.\d+$")


class ConvertError(Exception):
    """The JSON has something this converter does not know how to set."""


def escape(text):
    """Typst markup that prints `text` literally; a newline is a line break."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append(" \\\n")
        elif ch in SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


class Converter:
    def __init__(self, customer):
        values = [(customer[f], f) for f in FIELDS]
        # Longest first: a regular expression alternation takes the first that matches.
        values.sort(key=lambda v: -len(v[0]))
        self.fields = {v: f for v, f in values}
        # dpa puts zero-width spaces into e-mail addresses and URLs (after "@", "/", ...)
        # so that they can break; a value is found with or without them.
        self.pattern = re.compile(
            "|".join((ZWSP + "?").join(re.escape(ch) for ch in v) for v, _ in values)
        )
        self.found = set()

    def text(self, text):
        """Markup for plain text, with the customer's values as `sys.inputs` lookups."""
        out, pos = [], 0
        for m in self.pattern.finditer(text):
            out.append(escape(text[pos : m.start()]))
            matched = m.group(0)
            field = self.fields[matched.replace(ZWSP, "")]
            self.found.add(field)
            # `;` ends the embedded expression, so a following `(` or `.` stays text.
            if ZWSP in matched:
                after = "".join(sorted({matched[i - 1] for i, ch in enumerate(matched) if ch == ZWSP}))
                out.append(f"#soft(c.{field}, {typst_string(after)});")
            else:
                out.append(f"#c.{field};")
            pos = m.end()
        out.append(escape(text[pos:]))
        return "".join(out)

    def runs(self, runs):
        out = []
        for run in runs:
            body = self.text(run["text"])
            style = run["style"]
            if style == "bold":
                body = f"#strong[{body}];"
            elif style == "italic":
                body = f"#emph[{body}];"
            elif style == "bold-italic":
                body = f"#strong(emph[{body}]);"
            elif style != "regular":
                raise ConvertError(f"unknown run style {style!r}")
            link = run.get("link")
            if link:
                target = typst_string(link)
                for value, field in self.fields.items():
                    if link.endswith(":" + value):
                        target = f"{typst_string(link[: -len(value)])} + c.{field}"
                body = f"#link({target})[{body}];"
            out.append(body)
        return "".join(out)

    def paragraph(self, runs):
        first = runs[0] if runs else None
        # A clause ("**6.1** The Processor ..."): its number in a hanging column of 3 em,
        # as dpa sets it.
        if first and first["style"] == "bold" and CLAUSE.match(first["text"].strip()):
            rest = [dict(runs[1], text=runs[1]["text"].lstrip())] + runs[2:] if len(runs) > 1 else []
            return f"#clause[{self.text(first['text'].strip())}][{self.runs(rest)}]\n\n"
        return self.runs(runs) + "\n\n"

    def blocks(self, blocks, depth=0):
        out = []
        for block in blocks:
            (kind,) = [k for k in block if k != "runs"]
            if kind == "heading":
                level = block["heading"]
                if level not in (1, 2, 3):
                    raise ConvertError(f"heading level {level}")
                out.append("=" * level + " " + self.runs(block["runs"]) + "\n\n")
            elif kind == "paragraph":
                out.append(self.paragraph(block["paragraph"]))
            elif kind == "list":
                out.append(self.list(block["list"], depth))
            elif kind == "table":
                out.append(self.table(block["table"]))
            elif kind == "pagebreak":
                out.append("#pagebreak()\n\n")
            elif kind == "signatures":
                s = block["signatures"]
                out.append(f"#signatures({self.party(s['vendor'])}, {self.party(s['customer'])})\n\n")
            else:
                raise ConvertError(f"unknown block {kind!r}")
        return "".join(out)

    def list(self, lst, depth):
        if depth > 1:
            raise ConvertError("lists nested more than two levels")
        items = ", ".join(f"[{self.blocks(item, depth + 1).strip()}]" for item in lst["items"])
        if lst["start"] is None:
            return f"#list(indent: 3em, body-indent: 1.2em, {items})\n\n"
        numbering = "(a)" if depth == 0 else "(i)"
        return (
            f'#enum(numbering: "{numbering}", start: {lst["start"]}, indent: {3 if depth == 0 else 0}em, '
            f"body-indent: 0.9em, {items})\n\n"
        )

    def table(self, table):
        widths = table["widths"] or [None] * len(table["header"])
        cols = ", ".join("auto" if w is None else f"{w:g}fr" for w in widths)
        header = ", ".join(f"[{self.runs(c)}]" for c in table["header"])
        rows = ",\n  ".join(", ".join(f"[{self.runs(c)}]" for c in row) for row in table["rows"])
        return f"#annex-table(({cols}), ({header}), (\n  {rows},\n))\n\n"

    def party(self, p):
        def opt(v):
            return "none" if v is None else f"[{self.text(v)}]"

        return (
            f"(caption: {opt(p['caption'])}, organisation: {opt(p['organisation'])}, "
            f"name: {opt(p['name'])}, title: {opt(p['title'])}, date: {opt(p['date'])}, "
            f"signed: {opt(p['signed'])})"
        )


# The page, the type and the few functions the body uses. Sizes are dpa's (PageSetup:
# A4, 72 pt margins, 11 pt body; headings, tables and footer scaled from it).
PREAMBLE = r"""// Made by benches/typst/convert.py from dpa's composed document; do not edit.
#let defaults = DEFAULTS
#let c = (:)
#for (k, v) in defaults { c.insert(k, sys.inputs.at(k, default: v)) }

#set document(title: TITLE, author: AUTHOR)
#set text(font: "Liberation Serif", size: 11pt, lang: LANG, hyphenate: true)
// dpa's measured pitch: lines 14.2 pt apart, 7.2 pt more between paragraphs, 4.3 pt more
// between list items (Typst's leading counts from the baseline to the next cap height).
#set par(justify: true, leading: 6.9pt, spacing: 14.1pt)
#set enum(spacing: 11.2pt)
#set list(spacing: 11.2pt)
#set page(
  paper: "a4",
  margin: 72pt,
  footer: context {
    set text(size: 8pt)
    line(length: 100%, stroke: 0.4pt)
    v(-4pt)
    [FOOTER #h(1fr) Page #counter(page).display() of #counter(page).final().first()]
  },
  // sys.inputs.mark = "off" leaves the mark out (Typst sets it as text, which pdftotext
  // would count as words; dpa draws it as outlines).
  background: if sys.inputs.at("mark", default: "on") == "on" { WATERMARK },
)
#show heading: set text(weight: "bold")
#show heading: set block(above: 1.4em, below: 0.8em)
#show heading.where(level: 1): set text(size: 16pt)
#show heading.where(level: 2): set text(size: 13pt)
#show heading.where(level: 3): set text(size: 11pt)

// A value with a zero-width space after each of the characters in `after`, as dpa sets
// e-mail addresses so that they can break.
#let soft(s, after) = s.clusters().map(ch => if after.contains(ch) { ch + "\u{200b}" } else { ch }).join()

#let clause(number, body) = block(par(hanging-indent: 3em)[#box(width: 3em, strong(number))#body])

#let annex-table(columns, header, cells) = {
  set text(size: 9pt)
  set par(justify: false)
  set text(hyphenate: false)
  table(
    columns: columns,
    stroke: (x: none, y: 0.4pt + luma(60%)),
    inset: (x: 4pt, y: 5pt),
    table.header(..header.map(h => strong(h))),
    ..cells.flatten(),
  )
}

#let signatures(vendor, customer) = {
  let side(p) = {
    strong(p.caption)
    linebreak()
    p.organisation
    v(0.6em)
    if p.signed != none { text(size: 9pt, emph(p.signed)) } else { v(1em) }
    line(length: 100%, stroke: 0.5pt)
    v(-0.6em)
    text(size: 8pt, emph[Signature])
    for (label, value) in (("Name", p.name), ("Title", p.title), ("Date", p.date)) {
      v(0.6em)
      text(size: 8pt)[#label:]
      h(0.5em)
      if value != none { value } else { box(width: 1fr, line(length: 100%, stroke: 0.5pt)) }
    }
  }
  block(above: 1.5em, breakable: false, grid(columns: (1fr, 1fr), column-gutter: 2em, side(vendor), side(customer)))
}

ATTACHMENTS
"""


def typst_string(s):
    # JSON string syntax is valid Typst string syntax except for `\u` escapes, which Typst
    # writes as \u{...}; ensure_ascii=False keeps every character literal.
    return json.dumps(s, ensure_ascii=False)


def convert(doc):
    customer = doc["customer"]
    conv = Converter(customer)
    body = conv.blocks(doc["blocks"])
    missing = [f for f in FIELDS if f not in conv.found]
    if missing:
        raise ConvertError(
            "customer values not found in the text: "
            + ", ".join(f"{f}={customer[f]!r}" for f in missing)
            + " (hint: make the JSON for benches/typst/customer.toml)"
        )
    defaults = "(" + ", ".join(f"{f}: {typst_string(customer[f])}" for f in FIELDS) + ")"
    vendor_part = doc["title"].split(" and ")[-1]
    if customer["legal_name"] not in doc["title"]:
        raise ConvertError("the title does not name the customer")
    title = (
        "\"Data Processing Agreement between \" + c.legal_name + "
        + typst_string(" and " + vendor_part)
    )
    mark = doc.get("watermark")
    watermark = (
        "none"
        if not mark
        else f"rotate(-55deg, text(size: 54pt, weight: \"bold\", fill: luma(88%), {typst_string(mark)}))"
    )
    attachments = "\n".join(
        f"#pdf.attach({typst_string(a['name'])}, bytes({typst_string(a['text'])}), "
        f"mime-type: {typst_string(a['mime'])}, description: {typst_string(a['description'])})"
        for a in doc.get("attachments", [])
    )
    preamble = (
        PREAMBLE.replace("DEFAULTS", defaults)
        .replace("TITLE", title)
        .replace("AUTHOR", typst_string(doc["author"]))
        .replace("LANG", typst_string(doc["lang"].split("-")[0]))
        .replace("FOOTER", escape(doc["footer"]))
        .replace("WATERMARK", watermark)
        .replace("ATTACHMENTS", attachments)
    )
    return preamble + "\n" + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", help="the JSON of examples/document.rs")
    ap.add_argument("--out", help="the .typ file to write (default: stdout)")
    args = ap.parse_args()
    try:
        with open(args.json, encoding="utf-8") as f:
            doc = json.load(f)
        typ = convert(doc)
    except (OSError, ValueError, KeyError, ConvertError) as e:
        print(f"error: {args.json}: {e}", file=sys.stderr)
        sys.exit(2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(typ)
    else:
        sys.stdout.write(typ)


if __name__ == "__main__":
    main()
