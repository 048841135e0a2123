//! Customer lists: a folder of customer TOML files or one CSV file -> customers.
//!
//! In: the path of the folder or the file, and optionally the annex to check features
//! against. Out: one result per customer in input order (a batch reports a bad one and
//! goes on), or a [`LoadError`] for the whole input (unreadable, empty, bad CSV header).
//! A customer whose id repeats an earlier one is an error naming both places, since the
//! id names the output folder.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::error::{FileKind, LoadError, Location, did_you_mean, printable};
use super::rules::check_customer;
use super::source::{MAX_CSV_BYTES, Seg, Source, closest, key, nfc, read_text};
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

pub fn load(
    path: &Path,
    annex: Option<&Annex>,
) -> Result<Vec<Result<Customer, LoadError>>, LoadError> {
    if path == Path::new(super::STDIN) {
        // Standard input can only be a CSV list; a folder has no stream form.
        return Ok(without_duplicate_ids(from_csv(path, annex)?));
    }
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
    // (customer or error, where its id is written) in input order.
    let loaded: Vec<(Result<Customer, LoadError>, Option<Location>)> = if meta.is_dir() {
        from_folder(path, annex)?
    } else {
        from_csv(path, annex)?
    };
    Ok(without_duplicate_ids(loaded))
}

/// Marks every customer whose id an earlier one already used as an error.
fn without_duplicate_ids(
    loaded: Vec<(Result<Customer, LoadError>, Option<Location>)>,
) -> Vec<Result<Customer, LoadError>> {
    let mut seen: BTreeMap<String, Option<Location>> = BTreeMap::new();
    let mut out = Vec::with_capacity(loaded.len());
    for (result, where_id) in loaded {
        let result = match result {
            Ok(c) => match seen.get(&c.id) {
                Some(first) => Err(duplicate_id(&c.id, first.as_ref(), where_id)),
                None => {
                    seen.insert(c.id.clone(), where_id);
                    Ok(c)
                }
            },
            Err(e) => Err(e),
        };
        out.push(result);
    }
    out
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

type Loaded = Vec<(Result<Customer, LoadError>, Option<Location>)>;

fn from_folder(dir: &Path, annex: Option<&Annex>) -> Result<Loaded, LoadError> {
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
    Ok(files
        .into_iter()
        .map(|file| {
            let source = match Source::read(&file, FileKind::Customer) {
                Ok(s) => s,
                Err(e) => return (Err(e), None),
            };
            let result = customer_from(&source, annex);
            let where_id = source.locate(&[key("id")]);
            (result, Some(where_id))
        })
        .collect())
}

fn from_csv(path: &Path, annex: Option<&Annex>) -> Result<Loaded, LoadError> {
    let text = read_text(path, FileKind::Customers, MAX_CSV_BYTES)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_at = Location {
        path: path.to_path_buf(),
        line: 1,
        column: None,
    };
    let csv_error = |e: csv::Error, line: usize| LoadError::CsvFormat {
        at: Location {
            path: path.to_path_buf(),
            line: e.position().map_or(line, |p| p.line() as usize),
            column: None,
        },
        message: printable(&e.to_string()),
        hint: Some("save the sheet as UTF-8 CSV with a header row".to_string()),
    };
    let header = reader.headers().map_err(|e| csv_error(e, 1))?.clone();
    let mut columns: BTreeMap<&str, usize> = BTreeMap::new();
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
        if columns.insert(name, i).is_some() {
            return Err(LoadError::CsvFormat {
                at: header_at,
                message: format!("the column `{}` appears twice", printable(name)),
                hint: None,
            });
        }
    }
    // `features` may be left out when no customer enables any.
    if let Some(missing) = CSV_COLUMNS[..8].iter().find(|c| !columns.contains_key(*c)) {
        return Err(LoadError::CsvFormat {
            at: header_at,
            message: format!("missing column `{missing}`"),
            hint: Some(format!("the header is: {}", CSV_COLUMNS.join(","))),
        });
    }
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut last_line = 1;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(last_line + 1, |p| p.line() as usize);
                last_line = line;
                let at = Location {
                    path: path.to_path_buf(),
                    line,
                    column: None,
                };
                let result = csv_customer(&record, &columns, header.len(), &at, annex);
                out.push((result, Some(at)));
            }
            Err(e) => {
                last_line += 1;
                out.push((Err(csv_error(e, last_line)), None));
            }
        }
    }
    if out.is_empty() {
        return Err(LoadError::Folder {
            path: path.to_path_buf(),
            message: "the CSV file has a header but no customers".to_string(),
        });
    }
    Ok(out)
}

fn csv_customer(
    record: &csv::StringRecord,
    columns: &BTreeMap<&str, usize>,
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
