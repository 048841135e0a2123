//! Object streams and the cross-reference stream (PDF 32000-1, 7.5.7 and 7.5.8).
//!
//! In: a `pdf-writer` chunk of dictionaries and arrays (fonts, structure tree, outline,
//! links), and the finished file with its classic cross-reference table. Out: the
//! chunk's objects packed into the body of an object stream and compressed (kept per
//! thread for a chunk that repeats), and the file with its table
//! replaced by a compressed cross-reference stream that points into its object streams.
//!
//! Written by hand because `pdf-writer` writes objects and cross-reference streams but
//! not object streams. Why it is worth it: a tagged DPA has several hundred structure
//! elements; as plain objects they made the file 80% larger, compressed about 10%.
//! Stream objects (pages, fonts, the annex) and the signature objects stay plain, so the
//! `/Contents` and `/ByteRange` placeholders remain in the file's bytes as written.

use std::cell::RefCell;
use std::sync::Arc;

use pdf_writer::{Chunk, Ref};

use super::PdfError;
use super::deflate::{BytesKey, Deflated, Kind, deflate_once};
use crate::cache::{self, Memo};

/// A chunk's objects as the body of an object stream.
struct Packed {
    /// The objects, in the order of their index in the stream.
    pub ids: Vec<i32>,
    /// Offset of the first object (after the header of numbers).
    pub first: usize,
    /// Header and objects, uncompressed.
    pub data: Vec<u8>,
}

/// An object stream ready to write.
#[derive(Clone)]
pub(super) struct Stream {
    /// The objects, in the order of their index in the stream.
    pub ids: Arc<[i32]>,
    /// Offset of the first object in the uncompressed body.
    pub first: usize,
    /// The body, compressed.
    pub data: Deflated,
}

thread_local! {
    /// Object streams kept per thread: the structure tree's and the fonts' come out the
    /// same for most customers of a batch (packing the tree's ~430 objects cost 0.3 M
    /// instructions a document).
    static STREAMS: RefCell<Memo<BytesKey, Stream>> = RefCell::new(Memo::new(8));
}

/// The chunk's objects as a compressed object stream (`None` for an empty chunk); with
/// `repeats`, handed out as made earlier on this thread from the same bytes.
pub(super) fn stream(chunk: &Chunk, repeats: bool) -> Result<Option<Stream>, PdfError> {
    if chunk.refs().len() == 0 {
        return Ok(None);
    }
    let make = || {
        let packed = pack(chunk)?;
        Ok::<_, PdfError>(Stream {
            data: deflate_once(Kind::Dense, &packed.data)?,
            ids: packed.ids.into(),
            first: packed.first,
        })
    };
    if !repeats {
        return make().map(Some);
    }
    let key = BytesKey::new(chunk.as_bytes().to_vec());
    cache::memoised(&STREAMS, key, |_| make()).map(Some)
}

/// Splits the chunk into its objects (`N 0 obj` … `endobj`) and packs them.
fn pack(chunk: &Chunk) -> Result<Packed, PdfError> {
    let bytes = chunk.as_bytes();
    let bad = || PdfError::Write("unexpected object layout in the object stream chunk".into());
    // The chunk holds the structure tree's hundreds of small objects: the searches are
    // memchr's vector ones, prepared once (a naive window search cost ~0.5 M
    // instructions a document).
    let head = memchr::memmem::Finder::new(b" 0 obj\n");
    let tail = memchr::memmem::Finder::new(b"\nendobj\n");
    let mut ids = Vec::with_capacity(chunk.refs().len());
    let mut bodies: Vec<&[u8]> = Vec::with_capacity(ids.capacity());
    let mut at = 0;
    while at < bytes.len() {
        // pdf-writer writes `{id} 0 obj\n{object}\nendobj\n\n`, and never a raw line
        // break inside a dictionary or array (strings escape theirs).
        let head_end = head.find(&bytes[at..]).ok_or_else(bad)? + at;
        let id: i32 = std::str::from_utf8(&bytes[at..head_end])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(bad)?;
        let body_start = head_end + b" 0 obj\n".len();
        let body_end = tail.find(&bytes[body_start..]).ok_or_else(bad)? + body_start;
        ids.push(id);
        bodies.push(&bytes[body_start..body_end]);
        at = body_end + b"\nendobj\n".len();
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
    }
    let total: usize = bodies.iter().map(|b| b.len() + 1).sum();
    let mut data = Vec::with_capacity(16 * ids.len() + total);
    let mut offset = 0;
    for (id, body) in ids.iter().zip(&bodies) {
        super::int_num(&mut data, *id as u64);
        data.push(b' ');
        super::int_num(&mut data, offset as u64);
        data.push(b' ');
        offset += body.len() + 1;
    }
    data.push(b'\n');
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

/// Where each object of `pdf` starts, read back from its bytes in the order the objects
/// were written (`Chunk::refs`).
///
/// pdf-writer keeps these offsets but does not hand them out: `Pdf::finish` writes them
/// as a classic table, one formatted 20-byte line per object number, including the
/// hundreds of numbers that live in object streams, which cost a million instructions a
/// document to write and parse back. Reading the objects is exact, not a search: each
/// is `{id} 0 obj\n`, then either a dictionary that starts with `/Length n` and is
/// followed by `stream\n`, n bytes and `\nendstream`, or an object without a raw line
/// break (pdf-writer escapes them in strings), then `\nendobj\n`. This holds for the
/// compact settings `write` uses (`pretty: false`); anything else is an error, not a guess.
fn offsets(bytes: &[u8], refs: impl Iterator<Item = Ref>) -> Result<Vec<(Ref, usize)>, PdfError> {
    let bad = |id: Ref, what: &str| {
        PdfError::Write(format!("cannot read back object {}: {what}", id.get()))
    };
    // The header: `%PDF-1.7`, a line of binary marker bytes, an empty line.
    let mut at = find(bytes, b"\n\n").ok_or_else(|| PdfError::Write("no PDF header".into()))? + 2;
    let mut found = Vec::with_capacity(refs.size_hint().0);
    let mut head = Vec::with_capacity(16);
    for id in refs {
        head.clear();
        head.extend_from_slice(id.get().to_string().as_bytes());
        head.extend_from_slice(b" 0 obj\n");
        if !bytes[at..].starts_with(&head) {
            return Err(bad(id, "not where the previous object ends"));
        }
        found.push((id, at));
        let body = at + head.len();
        let line_end =
            memchr::memchr(b'\n', &bytes[body..]).ok_or_else(|| bad(id, "no end"))? + body;
        let rest = &bytes[line_end..];
        at = if rest.starts_with(b"\nstream\n") {
            let length = bytes[body..line_end]
                .strip_prefix(b"<</Length ")
                .and_then(|l| {
                    let digits = l.iter().take_while(|b| b.is_ascii_digit()).count();
                    std::str::from_utf8(&l[..digits])
                        .ok()?
                        .parse::<usize>()
                        .ok()
                })
                .ok_or_else(|| bad(id, "a stream without /Length first"))?;
            let end = line_end + b"\nstream\n".len() + length;
            if !bytes
                .get(end..)
                .is_some_and(|r| r.starts_with(b"\nendstream\nendobj\n"))
            {
                return Err(bad(id, "stream data not followed by endstream"));
            }
            end + b"\nendstream\nendobj\n".len()
        } else if rest.starts_with(b"\nendobj\n") {
            line_end + b"\nendobj\n".len()
        } else {
            return Err(bad(id, "a line break inside the object"));
        };
        while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
            at += 1;
        }
    }
    if at != bytes.len() {
        return Err(PdfError::Write("bytes after the last object".into()));
    }
    Ok(found)
}

/// Ends `pdf` with a compressed cross-reference stream that lists its own objects and
/// the objects inside each object stream (its number, and its objects in the order of
/// their index in it), and returns the file.
pub(super) fn finish(
    pdf: &Chunk,
    streams: &[(Ref, Arc<[i32]>)],
    xref: Ref,
    root: Ref,
    info: Ref,
    id: &[u8],
) -> Result<Vec<u8>, PdfError> {
    let bytes = pdf.as_bytes();
    let plain = offsets(bytes, pdf.refs())?;
    let highest = plain.iter().map(|(r, _)| r.get()).max().unwrap_or(0);
    let size = highest.max(xref.get()) as usize + 1;
    let duplicate = |n: i32| PdfError::Write(format!("object {n} written twice"));
    // Type, then a four-byte field, then a two-byte field (7.5.8.3). Free entries have
    // type 0; object 0 heads the free list with generation 65535.
    let mut rows = vec![[0u8; 7]; size];
    rows[0][5..7].copy_from_slice(&u16::MAX.to_be_bytes());
    for (object, offset) in &plain {
        let row = &mut rows[object.get() as usize];
        if row[0] != 0 {
            return Err(duplicate(object.get()));
        }
        row[0] = 1;
        row[1..5].copy_from_slice(&(*offset as u32).to_be_bytes());
    }
    for (stream, packed) in streams {
        for (index, object) in packed.iter().enumerate() {
            let row = rows.get_mut(*object as usize).ok_or_else(|| {
                PdfError::Write(format!("packed object {object} beyond the table"))
            })?;
            if row[0] != 0 {
                return Err(duplicate(*object));
            }
            row[0] = 2;
            row[1..5].copy_from_slice(&(stream.get() as u32).to_be_bytes());
            row[5..7].copy_from_slice(&(index as u16).to_be_bytes());
        }
    }
    let mut file = Vec::with_capacity(bytes.len() + 8 * size + 256);
    file.extend_from_slice(bytes);
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

#[cfg(test)]
mod tests {
    use pdf_writer::{Name, Pdf, Rect, Str};

    use super::*;

    /// A small file with the kinds of object a DPA has, and stream data that looks like
    /// the end of an object followed by the next one.
    fn sample() -> Pdf {
        let mut pdf = Pdf::with_settings(pdf_writer::Settings { pretty: false });
        pdf.catalog(Ref::new(1)).pages(Ref::new(2));
        pdf.pages(Ref::new(2)).kids([Ref::new(4)]).count(1);
        let tricky = b"BT (x) Tj ET\nendstream\nendobj\n\n4 0 obj\n<</Length 3>>".to_vec();
        pdf.stream(Ref::new(7), &tricky)
            .pair(Name(b"Note"), Str(b"two\nlines"));
        pdf.page(Ref::new(4))
            .parent(Ref::new(2))
            .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
            .contents(Ref::new(7));
        pdf.stream(Ref::new(9), b"");
        pdf.document_info(Ref::new(3))
            .title(pdf_writer::TextStr("a (b) \\ c"));
        pdf
    }

    /// The offsets pdf-writer's own classic table gives.
    fn table(file: &[u8]) -> Vec<(i32, usize)> {
        let start = file.windows(6).rposition(|w| w == b"\nxref\n").unwrap() + 6;
        let text = std::str::from_utf8(&file[start..]).unwrap();
        let mut lines = text.lines();
        let count: usize = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        lines
            .take(count)
            .enumerate()
            .filter(|(_, l)| l.ends_with('n'))
            .map(|(n, l)| (n as i32, l[..10].parse().unwrap()))
            .collect()
    }

    #[test]
    fn offsets_are_those_pdf_writer_records() {
        let pdf = sample();
        let mut read: Vec<(i32, usize)> = offsets(pdf.as_bytes(), pdf.refs())
            .unwrap()
            .into_iter()
            .map(|(r, at)| (r.get(), at))
            .collect();
        read.sort();
        assert_eq!(read.len(), 6);
        assert_eq!(read, table(&sample().finish()));
    }

    #[test]
    fn bytes_that_do_not_match_the_objects_are_an_error() {
        let pdf = sample();
        let bytes = pdf.as_bytes();
        // Cut short inside the stream, then with one byte of the stream's data lost.
        let cut = &bytes[..bytes.len() - 40];
        assert!(offsets(cut, pdf.refs()).is_err());
        let at = bytes.windows(4).position(|w| w == b"BT (").unwrap();
        let lost = [&bytes[..at], &bytes[at + 1..]].concat();
        assert!(offsets(&lost, pdf.refs()).is_err());
        // The objects in another order than they were written.
        let mut refs: Vec<Ref> = pdf.refs().collect();
        refs.swap(0, 1);
        assert!(offsets(bytes, refs.into_iter()).is_err());
    }

    #[test]
    fn an_object_written_twice_is_an_error() {
        let pdf = sample();
        let twice = [(Ref::new(20), Arc::from([4]))];
        let err = finish(
            &pdf,
            &twice,
            Ref::new(21),
            Ref::new(1),
            Ref::new(3),
            &[0; 16],
        );
        assert!(err.is_err());
    }
}
