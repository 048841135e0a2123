//! Object streams and the cross-reference stream (PDF 32000-1, 7.5.7 and 7.5.8).
//!
//! In: a `pdf-writer` chunk of dictionaries and arrays (fonts, structure tree, outline,
//! links), and the finished file with its classic cross-reference table. Out: the
//! chunk's objects packed into the body of an object stream, and the file with its table
//! replaced by a compressed cross-reference stream that points into its object streams.
//!
//! Written by hand because `pdf-writer` writes objects and cross-reference streams but
//! not object streams. Why it is worth it: a tagged DPA has several hundred structure
//! elements; as plain objects they made the file 80% larger, compressed about 10%.
//! Stream objects (pages, fonts, the annex) and the signature objects stay plain, so the
//! `/Contents` and `/ByteRange` placeholders remain in the file's bytes as written.

use pdf_writer::{Chunk, Ref};

use super::PdfError;
use super::deflate::{Kind, deflate_once};

/// A chunk's objects as the body of an object stream.
pub(super) struct Packed {
    /// The objects, in the order of their index in the stream.
    pub ids: Vec<i32>,
    /// Offset of the first object (after the header of numbers).
    pub first: usize,
    /// Header and objects, uncompressed.
    pub data: Vec<u8>,
}

/// Splits the chunk into its objects (`N 0 obj` … `endobj`) and packs them.
pub(super) fn pack(chunk: &Chunk) -> Result<Packed, PdfError> {
    let bytes = chunk.as_bytes();
    let bad = || PdfError::Write("unexpected object layout in the object stream chunk".into());
    let mut ids = Vec::new();
    let mut bodies: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        // pdf-writer writes `{id} 0 obj\n{object}\nendobj\n\n`, and never a raw line
        // break inside a dictionary or array (strings escape theirs).
        let head_end = find(&bytes[at..], b" 0 obj\n").ok_or_else(bad)? + at;
        let id: i32 = std::str::from_utf8(&bytes[at..head_end])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(bad)?;
        let body_start = head_end + b" 0 obj\n".len();
        let body_end = find(&bytes[body_start..], b"\nendobj\n").ok_or_else(bad)? + body_start;
        ids.push(id);
        bodies.push(&bytes[body_start..body_end]);
        at = body_end + b"\nendobj\n".len();
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
    }
    let mut header = String::new();
    let mut offset = 0;
    for (id, body) in ids.iter().zip(&bodies) {
        header.push_str(&format!("{id} {offset} "));
        offset += body.len() + 1;
    }
    header.push('\n');
    let mut data = header.into_bytes();
    let first = data.len();
    for body in bodies {
        data.extend_from_slice(body);
        data.push(b'\n');
    }
    Ok(Packed { ids, first, data })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Replaces the classic cross-reference table at the end of `file` with a compressed
/// cross-reference stream that also lists the objects inside each object stream (its
/// number, and its objects in the order of their index in it).
pub(super) fn finish(
    mut file: Vec<u8>,
    streams: &[(Ref, Vec<i32>)],
    xref: Ref,
    root: Ref,
    info: Ref,
    id: &[u8],
) -> Result<Vec<u8>, PdfError> {
    let bad = |what: &str| PdfError::Write(format!("cannot read back the xref table: {what}"));
    let start = file
        .windows(b"\nxref\n".len())
        .rposition(|w| w == b"\nxref\n")
        .ok_or_else(|| bad("no table"))?
        + 1;
    // `xref\n0 N\n` then N entries of 20 bytes: `oooooooooo ggggg n\r\n`.
    let rest = &file[start + 5..];
    let line_end = find(rest, b"\n").ok_or_else(|| bad("no subsection"))?;
    let count: usize = std::str::from_utf8(&rest[..line_end])
        .ok()
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .ok_or_else(|| bad("subsection header"))?;
    let entries = &rest[line_end + 1..];
    if entries.len() < count * 20 {
        return Err(bad("short table"));
    }
    let size = count.max(xref.get() as usize + 1);
    // Type, then a four-byte field, then a two-byte field (7.5.8.3).
    let mut rows = vec![[0u8; 7]; size];
    for (n, row) in rows.iter_mut().enumerate().take(count) {
        let e = &entries[n * 20..n * 20 + 20];
        let offset: u32 = std::str::from_utf8(&e[..10])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("entry"))?;
        if e[17] == b'n' {
            row[0] = 1;
            row[1..5].copy_from_slice(&offset.to_be_bytes());
        } else if n == 0 {
            row[5..7].copy_from_slice(&u16::MAX.to_be_bytes());
        }
    }
    for (stream, packed) in streams {
        for (index, object) in packed.iter().enumerate() {
            let row = rows
                .get_mut(*object as usize)
                .ok_or_else(|| bad("packed object beyond the table"))?;
            row[0] = 2;
            row[1..5].copy_from_slice(&(stream.get() as u32).to_be_bytes());
            row[5..7].copy_from_slice(&(index as u16).to_be_bytes());
        }
    }
    file.truncate(start);
    let offset = file.len() as u32;
    rows[xref.get() as usize][0] = 1;
    rows[xref.get() as usize][1..5].copy_from_slice(&offset.to_be_bytes());
    let raw: Vec<u8> = rows.concat();
    // Offsets differ from one document to the next: not worth a place in the memo.
    let data = deflate_once(Kind::Text, &raw)?.data;
    let hex: String = id.iter().map(|b| format!("{b:02X}")).collect();
    let dict = format!(
        "{} 0 obj\n<</Type/XRef/Size {size}/W[1 4 2]/Root {} 0 R/Info {} 0 R/ID[<{hex}><{hex}>]/Filter/FlateDecode/Length {}>>\nstream\n",
        xref.get(),
        root.get(),
        info.get(),
        data.len()
    );
    file.extend_from_slice(dict.as_bytes());
    file.extend_from_slice(&data);
    file.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{offset}\n%%EOF").as_bytes());
    Ok(file)
}
