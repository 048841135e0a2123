"""Plays the customer: countersigns a DPA's empty signature field with pyHanko.

usage: countersign.py IN OUT FIELD KEY CERT [--tamper content|annot|newfield]

--tamper makes the same incremental update also change something a DocMDP P=2
certification does not permit: the first page's content, a new comment annotation,
or a new signature field instead of the existing one.
"""
import sys

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

src, dst, field, key, cert = sys.argv[1:6]
tamper = sys.argv[7] if len(sys.argv) > 7 and sys.argv[6] == "--tamper" else None

signer = signers.SimpleSigner.load(key, cert, key_passphrase=None)
with open(src, "rb") as inf:
    w = IncrementalPdfFileWriter(inf, strict=False)
    if tamper == "content":
        page = w.root["/Pages"]["/Kids"][0].get_object()
        extra = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (PAID IN FULL) Tj ET")
        ref = w.add_object(extra)
        contents = page.raw_get("/Contents")
        if isinstance(contents, generic.ArrayObject):
            arr = generic.ArrayObject(list(contents) + [ref])
        else:
            arr = generic.ArrayObject([contents, ref])
        page["/Contents"] = arr
        w.update_container(page)
    elif tamper == "annot":
        page_ref = w.root["/Pages"]["/Kids"][0]
        page = page_ref.get_object()
        annot = generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(x) for x in (100, 100, 120, 120)]),
            generic.NameObject("/Contents"): generic.TextStringObject("Clause 4 does not apply"),
            generic.NameObject("/P"): page_ref,
        })
        aref = w.add_object(annot)
        annots = page.raw_get("/Annots") if "/Annots" in page else generic.ArrayObject()
        if isinstance(annots, generic.IndirectObject):
            annots = annots.get_object()
        page["/Annots"] = generic.ArrayObject(list(annots) + [aref])
        w.update_container(page)
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES)
    if tamper == "newfield":
        new_field = fields.SigFieldSpec(sig_field_name=field, on_page=0, box=(72, 600, 272, 660))
        out = signers.sign_pdf(w, meta, signer=signer, new_field_spec=new_field)
    else:
        out = signers.sign_pdf(w, meta, signer=signer, existing_fields_only=True)
with open(dst, "wb") as f:
    f.write(out.getvalue())
