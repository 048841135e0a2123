//! Customer lists: a folder of customer TOML files or one CSV file -> customers.
//!
//! In: the path of the folder or the file, and optionally the annex to check features
//! against. Out: one result per customer in input order (a batch reports a bad one and
//! goes on), or a [`LoadError`] for the whole input (unreadable, empty, bad CSV header).
//! A customer whose id repeats an earlier one is an error naming both places, since the
//! id names the output folder.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::hash::BuildHasher;
use std::io;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use super::error::{FileKind, LoadError, Location, did_you_mean, printable};
use super::rules::check_customer;
use super::source::{MAX_CSV_BYTES, Seg, Source, closest, key, nfc, open_limited, read_text};
use super::{check_features, customer_from};
use crate::model::{Annex, Customer, Signatory};

const CSV_COLUMNS: [&str; 9] = [
    "id",
    "legal_name",
    "address",
    "country",
    "email",
    "effective",
    "signatory_name",
    "signatory_title",
    "features",
];

/// Customers read one at a time, in input order, each a customer or its own error; a
/// customer whose id repeats an earlier one is an error naming both places.
///
/// A batch takes them from here as its workers get free, so what a process holds does not
/// grow with the list: a CSV file is read record by record (a second, cheap pass counts
/// them first, for the progress bar), a folder's files are read one by one, and only each
/// id with where it was written is kept, to catch repeats.
pub struct Stream {
    total: usize,
    rows: Box<dyn Iterator<Item = (Result<Customer, LoadError>, Option<Location>)> + Send>,
    /// Each id so far with where it was first written.
    seen: SeenIds,
    csv: Option<PathBuf>,
}

/// The ids of a customer list read so far, each with where it was first written, kept
/// compactly: the ids one after another in one string, a hash table of their indices,
/// and for a CSV list only the line (every row has the same file). A `HashMap<String, _>`
/// cost ~160 bytes per customer in separate small blocks, which stayed among the
/// documents' memory and made a batch's peak memory grow with its customer count.
// hashbrown's `HashTable` because std's maps cannot look up an entry whose key lives
// elsewhere (here: a slice of `text`).
#[derive(Default)]
struct SeenIds {
    /// Every id, one after another.
    text: String,
    /// Where each id ends in `text` (it starts where the one before it ends).
    ends: Vec<usize>,
    /// The CSV line of each id, or 0 when `places` holds where it was.
    lines: Vec<usize>,
    /// Where an id was, for ids not on a CSV line of their own (files of a folder).
    places: HashMap<usize, Option<Location>>,
    /// Indices into `ends`, hashed by their id.
    table: hashbrown::HashTable<usize>,
    hasher: std::hash::RandomState,
}

/// Where an id was first written.
enum Seen<'a> {
    Line(usize),
    At(Option<&'a Location>),
}

impl SeenIds {
    fn id(&self, i: usize) -> &str {
        id_at(&self.text, &self.ends, i)
    }

    /// Where `id` was first written, if it was.
    fn find(&self, id: &str) -> Option<Seen<'_>> {
        let hash = self.hasher.hash_one(id);
        let &i = self.table.find(hash, |&i| self.id(i) == id)?;
        Some(match self.lines[i] {
            0 => Seen::At(self.places.get(&i).and_then(Option::as_ref)),
            line => Seen::Line(line),
        })
    }

    /// Records `id` (not seen before) as written on `line` of the CSV list, or at `at`.
    fn insert(&mut self, id: &str, line: Option<usize>, at: Option<Location>) {
        let i = self.ends.len();
        self.text.push_str(id);
        self.ends.push(self.text.len());
        match line {
            Some(line) if line > 0 => self.lines.push(line),
            _ => {
                self.lines.push(0);
                self.places.insert(i, at);
            }
        }
        let hash = self.hasher.hash_one(id);
        let Self {
            table,
            hasher,
            text,
            ends,
            ..
        } = self;
        table.insert_unique(hash, i, |&j| hasher.hash_one(id_at(text, ends, j)));
    }
}

/// The `i`th id of [`SeenIds`]' string.
fn id_at<'a>(text: &'a str, ends: &[usize], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &text[start..ends[i]]
}

impl Stream {
    /// How many customers (or unreadable rows) the input holds.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl Iterator for Stream {
    type Item = Result<Customer, LoadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (result, where_id) = self.rows.next()?;
        Some(match result {
            Ok(c) => match self.seen.find(&c.id) {
                Some(Seen::At(first)) => Err(duplicate_id(&c.id, first, where_id)),
                Some(Seen::Line(line)) => {
                    let first = self.csv.clone().map(|path| Location {
                        path,
                        line,
                        column: None,
                    });
                    Err(duplicate_id(&c.id, first.as_ref(), where_id))
                }
                None => {
                    match (&self.csv, where_id) {
                        (Some(_), Some(at)) if at.column.is_none() => {
                            self.seen.insert(&c.id, Some(at.line), None)
                        }
                        (_, where_id) => self.seen.insert(&c.id, None, where_id),
                    }
                    Ok(c)
                }
            },
            Err(e) => Err(e),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}

/// Opens a customer list (a folder of TOML files, a CSV file, or `-` for a CSV on
/// standard input); the error is for the whole input (unreadable, empty, bad header).
pub fn stream(path: &Path, annex: Option<&Annex>) -> Result<Stream, LoadError> {
    let annex = annex.cloned().map(Arc::new);
    let mut csv = Some(path.to_path_buf());
    let (total, rows) = if path == Path::new(super::STDIN) {
        // Standard input can only be a CSV list; a folder has no stream form.
        let text = read_text(path, FileKind::Customers, MAX_CSV_BYTES)?;
        csv_rows(
            path,
            io::Cursor::new(text.clone()),
            io::Cursor::new(text),
            annex,
        )?
    } else {
        let meta = fs::metadata(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => LoadError::NotFound {
                kind: FileKind::Customers,
                path: path.to_path_buf(),
            },
            _ => LoadError::Read {
                kind: FileKind::Customers,
                path: path.to_path_buf(),
                source,
            },
        })?;
        if meta.is_dir() {
            csv = None;
            from_folder(path, annex)?
        } else {
            // Never read past the limit, even if the file grows meanwhile.
            let open = || -> Result<_, LoadError> {
                let (file, _) = open_limited(path, FileKind::Customers, MAX_CSV_BYTES)?;
                Ok(io::BufReader::with_capacity(
                    64 * 1024,
                    file.take(MAX_CSV_BYTES),
                ))
            };
            csv_rows(path, open()?, open()?, annex)?
        }
    };
    Ok(Stream {
        total,
        rows,
        seen: SeenIds::default(),
        csv,
    })
}

/// Loads every customer of a list at once (see [`stream`]).
pub fn load(
    path: &Path,
    annex: Option<&Annex>,
) -> Result<Vec<Result<Customer, LoadError>>, LoadError> {
    Ok(stream(path, annex)?.collect())
}

fn duplicate_id(id: &str, first: Option<&Location>, here: Option<Location>) -> LoadError {
    let also = first.map_or(String::new(), |l| format!(" (also at {l})"));
    let message = format!("the id `{id}` is used twice{also}");
    let hint = Some("each customer needs its own id: it names the output folder".to_string());
    let at = here.unwrap_or(Location {
        path: PathBuf::new(),
        line: 1,
        column: None,
    });
    if at.column.is_none() {
        LoadError::CsvRow {
            at,
            customer: Some(id.to_string()),
            field: "id".to_string(),
            message,
            hint,
        }
    } else {
        LoadError::Invalid {
            at,
            field_path: "id".to_string(),
            message,
            hint,
        }
    }
}

type Rows = Box<dyn Iterator<Item = (Result<Customer, LoadError>, Option<Location>)> + Send>;

fn from_folder(dir: &Path, annex: Option<Arc<Annex>>) -> Result<(usize, Rows), LoadError> {
    let read_err = |source| LoadError::Read {
        kind: FileKind::Customers,
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(LoadError::Folder {
            path: dir.to_path_buf(),
            message: "the folder holds no customer .toml files".to_string(),
        });
    }
    let total = files.len();
    let rows = files.into_iter().map(move |file| {
        let source = match Source::read(&file, FileKind::Customer) {
            Ok(s) => s,
            Err(e) => return (Err(e), None),
        };
        let result = customer_from(&source, annex.as_deref());
        let where_id = source.locate(&[key("id")]);
        (result, Some(where_id))
    });
    Ok((total, Box::new(rows)))
}

/// A CSV list: checks the header, counts the records with `count` (a reader of the same
/// bytes) and returns the rows read lazily from `input`.
fn csv_rows(
    path: &Path,
    count: impl io::Read,
    input: impl io::Read + Send + 'static,
    annex: Option<Arc<Annex>>,
) -> Result<(usize, Rows), LoadError> {
    let builder = || {
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(true).flexible(true);
        b
    };
    let header_at = Location {
        path: path.to_path_buf(),
        line: 1,
        column: None,
    };
    let owned_path = path.to_path_buf();
    let csv_error = move |e: csv::Error, line: usize| LoadError::CsvFormat {
        at: Location {
            path: owned_path.clone(),
            line: e.position().map_or(line, |p| p.line() as usize),
            column: None,
        },
        message: printable(&e.to_string()),
        hint: Some("save the sheet as UTF-8 CSV with a header row".to_string()),
    };
    let mut reader = builder().from_reader(input);
    let header = reader.headers().map_err(|e| csv_error(e, 1))?.clone();
    let mut columns: BTreeMap<String, usize> = BTreeMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        let expected: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
        if !CSV_COLUMNS.contains(&name) {
            return Err(LoadError::CsvFormat {
                at: header_at,
                message: format!(
                    "unknown column `{}`{}",
                    printable(name),
                    did_you_mean(&closest(name, &expected))
                ),
                hint: Some(format!("the header is: {}", CSV_COLUMNS.join(","))),
            });
        }
        if columns.insert(name.to_string(), i).is_some() {
            return Err(LoadError::CsvFormat {
                at: header_at,
                message: format!("the column `{}` appears twice", printable(name)),
                hint: None,
            });
        }
    }
    // `features` may be left out when no customer enables any.
    if let Some(missing) = CSV_COLUMNS[..8].iter().find(|c| !columns.contains_key(**c)) {
        return Err(LoadError::CsvFormat {
            at: header_at,
            message: format!("missing column `{missing}`"),
            hint: Some(format!("the header is: {}", CSV_COLUMNS.join(","))),
        });
    }
    // Records, not lines: a quoted address may span lines. A record the reader cannot
    // read still counts: it is reported as that row's error.
    // The same pass refuses a file that is not UTF-8 as a whole, before any customer is
    // issued (a Latin-1 export would otherwise fail row by row, or not at all).
    let mut counter = builder().from_reader(count);
    let mut record = csv::ByteRecord::new();
    let mut total = 0usize;
    loop {
        match counter.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                total += 1;
                if let Err(e) = std::str::from_utf8(record.as_slice()) {
                    let line = record.position().map_or(total + 1, |p| p.line() as usize);
                    return Err(not_utf8(path, line, e));
                }
            }
            Err(e) if e.is_io_error() => break,
            Err(_) => total += 1,
        }
    }
    if total == 0 {
        return Err(LoadError::Folder {
            path: path.to_path_buf(),
            message: "the CSV file has a header but no customers".to_string(),
        });
    }
    let path = path.to_path_buf();
    let width = header.len();
    let mut record = csv::StringRecord::new();
    let (mut last_line, mut ended) = (1, false);
    let rows = std::iter::from_fn(move || {
        if ended {
            return None;
        }
        match reader.read_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(last_line + 1, |p| p.line() as usize);
                last_line = line;
                let at = Location {
                    path: path.clone(),
                    line,
                    column: None,
                };
                let result = csv_customer(&record, &columns, width, &at, annex.as_deref());
                Some((result, Some(at)))
            }
            Err(e) => {
                // An I/O error ends the list: reading on would only repeat it.
                ended = e.is_io_error();
                last_line += 1;
                Some((Err(csv_error(e, last_line)), None))
            }
        }
    });
    Ok((total, Box::new(rows)))
}

fn not_utf8(path: &Path, line: usize, e: std::str::Utf8Error) -> LoadError {
    LoadError::Read {
        kind: FileKind::Customers,
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (bad byte on line {line}, at byte {} of its fields); save the file as UTF-8",
                e.valid_up_to() + 1
            ),
        ),
    }
}

fn csv_customer(
    record: &csv::StringRecord,
    columns: &BTreeMap<String, usize>,
    width: usize,
    at: &Location,
    annex: Option<&Annex>,
) -> Result<Customer, LoadError> {
    let get = |name: &str| -> String {
        nfc(columns
            .get(name)
            .and_then(|i| record.get(*i))
            .unwrap_or("")
            .trim())
    };
    let id = get("id");
    let customer_id = (!id.is_empty()).then(|| printable(&id));
    let row_error = |field: &str, message: String, hint: Option<String>| LoadError::CsvRow {
        at: at.clone(),
        customer: customer_id.clone(),
        field: field.to_string(),
        message,
        hint,
    };
    if record.len() != width {
        return Err(LoadError::CsvFormat {
            at: at.clone(),
            message: format!(
                "this row has {} fields but the header has {width}",
                record.len()
            ),
            hint: Some("put values that contain commas in double quotes".to_string()),
        });
    }
    let effective_text = get("effective");
    let effective = NaiveDate::parse_from_str(&effective_text, "%Y-%m-%d").map_err(|_| {
        row_error(
            "effective",
            format!("expected a date like 2026-06-01, found `{effective_text}`"),
            None,
        )
    })?;
    let features = get("features")
        .split(';')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    let customer = Customer {
        id,
        legal_name: get("legal_name"),
        address: get("address").replace("\r\n", "\n"),
        country: get("country"),
        email: get("email"),
        effective,
        features,
        signatory: Signatory {
            name: get("signatory_name"),
            title: get("signatory_title"),
        },
    };
    check_customer(&customer).map_err(|p| {
        // `signatory.name` is the column `signatory_name`; `features[2]` is `features`.
        let column = p
            .path
            .iter()
            .filter_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .collect::<Vec<_>>()
            .join("_");
        row_error(&column, p.message, p.hint)
    })?;
    if let Some(annex) = annex {
        check_features(&customer, annex).map_err(|e| match e {
            LoadError::UnknownFeature {
                customer,
                feature,
                annex_version,
                known,
                ..
            } => LoadError::UnknownFeature {
                at: Some(at.clone()),
                customer,
                feature,
                annex_version,
                known,
            },
            other => other,
        })?;
    }
    Ok(customer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_stream_counts_records_not_lines_and_reads_them_lazily() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("customers.csv");
        let row = |id: &str| {
            format!(
                "{id},Name {id},\"Street 1\nSecond line\",DE,a@{id}.example,2026-06-01,A B,CEO,\n"
            )
        };
        let text = format!(
            "{}\n{}{}{}bad,row\n",
            CSV_COLUMNS.join(","),
            row("one"),
            row("two"),
            row("one")
        );
        std::fs::write(&path, text).unwrap();
        let mut stream = stream(&path, None).unwrap();
        assert_eq!(stream.total(), 4);
        // The file may go away once the stream is open: it reads from the open file.
        std::fs::remove_file(&path).unwrap();
        let first = stream.next().unwrap().unwrap();
        assert_eq!(first.address, "Street 1\nSecond line");
        assert!(stream.next().unwrap().is_ok());
        let repeat = stream.next().unwrap().unwrap_err().to_string();
        assert!(repeat.contains("`one` is used twice"), "{repeat}");
        assert!(repeat.contains(":2"), "names the first place: {repeat}");
        assert!(stream.next().unwrap().is_err());
        assert!(stream.next().is_none());
    }

    #[test]
    fn seen_ids_find_each_id_and_its_place_and_no_other() {
        let mut seen = SeenIds::default();
        let ids: Vec<String> = (0..5000).map(|i| format!("c{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            assert!(seen.find(id).is_none(), "{id} not seen yet");
            if i % 7 == 0 {
                let at = Location {
                    path: PathBuf::from(format!("{id}.toml")),
                    line: 3,
                    column: Some(6),
                };
                seen.insert(id, None, Some(at));
            } else {
                seen.insert(id, Some(i + 2), None);
            }
        }
        for (i, id) in ids.iter().enumerate() {
            match seen.find(id) {
                Some(Seen::Line(line)) => assert_eq!(line, i + 2, "{id}"),
                Some(Seen::At(Some(at))) => {
                    assert_eq!(i % 7, 0, "{id}");
                    assert_eq!(at.path, PathBuf::from(format!("{id}.toml")));
                }
                _ => panic!("{id} not found with its place"),
            }
        }
        // Prefixes and extensions of stored ids are other ids.
        for other in ["c", "c1000x", "c499", "xc1", ""] {
            let stored = ids.iter().any(|id| id == other);
            assert_eq!(seen.find(other).is_some(), stored, "{other}");
        }
    }
}
