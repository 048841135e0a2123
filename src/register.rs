//! The issuance register: an append-only, hash-chained SQLite database in the output
//! folder that records every document issued (who got which annex version, signed with
//! which key, and the SHA-256 of every file of the set).
//!
//! In: [`Record`]s from the issuing layer. Out: rows listed, shown and verified by
//! `dpa register`, and looked up by the issuing layer to skip or repair what was issued.
//!
//! Integrity: every row is chained to the one before it by a SHA-256 over its content
//! and the previous row's hash; triggers refuse UPDATE and DELETE. Every open checks the
//! file (SQLite's quick check), the schema (each table, index and trigger exactly as this
//! dpa makes them), the schema version and the whole chain, and refuses a register that
//! fails any of them, saying what is wrong. Nothing is ever repaired or re-created on an
//! existing register. A person who can write the file can still rewrite the whole chain;
//! [`Register::head`] gives the latest hash to keep elsewhere and compare later.
//!
//! Acceptances and objections (schema 3) join the same chain: a row of `chain` names its
//! `type` (`issued`, `accepted`, `objected`), and each type has its own table keyed by
//! `seq`. The acceptance and objection tables keep the record as canonical JSON (`body`)
//! beside the columns they are looked up by; the open checks that both say the same. A
//! schema-2 register is read as it is and upgraded by the next writer: a new file with
//! schema 3 and every row, journal entry and chain position copied, checked, then
//! renamed over the old one, so a crash leaves the old register or the new one.
//!
//! The `pending` table is the issuing layer's journal, not evidence: it holds the rows of
//! a document set between "staged" and "switched in", so that a crash in between is
//! completed or undone by the next writer (see `issue`). It is not chained.
//!
//! Readers open the file read-only (no write access to the folder needed); writers open
//! it only through a locked [`OutDir`]. The journal mode is SQLite's rollback journal,
//! which, unlike WAL, lets a reader open the register without creating files beside it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::compose::Kind;
use crate::output::OutDir;

/// The register's file name inside the output folder.
pub const FILE_NAME: &str = "register.sqlite";

/// The schema this dpa writes (it also reads schema 2, which has no acceptances).
pub const SCHEMA_VERSION: i64 = 3;

/// The schema before acceptances and objections.
const SCHEMA_V2: i64 = 2;

/// SQLite's `application_id` of a dpa register ("DPAR").
const APPLICATION_ID: i64 = 0x4450_4152;

/// The previous hash of the first row.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Errors reading or writing the register.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("no register at {}", path.display())]
    Missing { path: PathBuf },
    #[error("cannot open the register {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("register {}", path.display())]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the register {} was changed outside dpa or is damaged: {problem}", path.display())]
    Tampered { path: PathBuf, problem: String },
    #[error(
        "the register {} was made by a newer dpa (schema {version}; this dpa knows schema {SCHEMA_VERSION})",
        path.display()
    )]
    Newer { path: PathBuf, version: i64 },
    #[error("{} is not a dpa register", path.display())]
    NotRegister { path: PathBuf },
    #[error("the register {} could not record a group of documents (is the disk full?)", path.display())]
    Full { path: PathBuf },
    #[error(
        "the register {} was made by an earlier dpa (schema 1, without a hash chain)",
        path.display()
    )]
    Legacy { path: PathBuf },
}

impl crate::error::Hint for RegisterError {
    fn hint(&self) -> Option<String> {
        match self {
            RegisterError::Missing { .. } => Some(
                "run `dpa generate` or `dpa batch` first, or pass --out with the folder they wrote to"
                    .into(),
            ),
            RegisterError::Tampered { .. } => Some(
                "restore register.sqlite from a backup; dpa never repairs a register, since it is the evidence of what was issued"
                    .into(),
            ),
            RegisterError::Newer { .. } => Some("use that newer dpa, or a newer release".into()),
            RegisterError::Full { .. } => Some(
                "free space in the output folder's file system and run again: what was recorded is kept".into(),
            ),
            RegisterError::NotRegister { .. } => Some(
                "move the file away, or pass another --out; dpa only writes its own register".into(),
            ),
            RegisterError::Legacy { .. } => Some(
                "the next `dpa generate` or `dpa batch` into this folder upgrades it, keeping every row"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// One file of a document's set and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    pub name: String,
    pub sha256: String,
    /// Its length in bytes (rows made before acceptances were recorded have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// One issued document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub customer_id: String,
    pub kind: Kind,
    pub annex_version: String,
    pub annex_sha256: String,
    pub template_sha256: String,
    /// The digest of every input that determines the document, the issue date excepted.
    pub inputs_sha256: String,
    pub pdf_sha256: String,
    pub key_id: String,
    /// The issue date, YYYY-MM-DD.
    pub issued: String,
    /// The PDF's path relative to the output folder.
    pub path: String,
    /// Every file of the set (the PDF and its signatures) in the customer's folder.
    pub files: Vec<FileHash>,
    /// A change notice's objection deadline, YYYY-MM-DD (schema 3; none for a DPA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

/// A record with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The row's position in the chain (shown as its id).
    pub id: i64,
    #[serde(flatten)]
    pub record: Record,
    /// The row's chain hash.
    pub hash: String,
}

/// A document set staged but not yet known to be switched in (the journal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    #[serde(skip)]
    pub id: i64,
    pub customer_id: String,
    /// The staging folder's name in the output folder.
    pub staging: String,
    /// The rows to add once the set is in place (none for a repair).
    pub records: Vec<Record>,
    /// The files the customer's folder holds once the set is in place.
    pub files: Vec<FileHash>,
}

/// What `register verify` found: the chain is intact up to this head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    pub rows: i64,
    pub last_id: i64,
    /// The last row's hash (the genesis hash when the register is empty).
    pub hash: String,
}

/// An open, checked register.
pub struct Register {
    conn: Connection,
    path: PathBuf,
    head: Head,
    /// The schema of the file: 3, or 2 for a register opened read-only before its upgrade.
    version: i64,
}

/// How a customer accepted a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The customer signed the issued PDF digitally; the file continues the issued bytes.
    Countersigned,
    /// Recorded by a person from evidence that nothing links to the issued bytes (a scan).
    Manual,
}

impl Method {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Countersigned => "countersigned",
            Method::Manual => "manual",
        }
    }
}

/// A signature the customer added to the issued document, as found in the returned file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The signature field it fills.
    pub field: Option<String>,
    /// The signer certificate's subject (the customer's own certificate: evidence only).
    pub subject: String,
    /// SHA-256 of the signer certificate (DER), hex.
    pub cert_sha256: String,
    /// The signing time the signature states (RFC 3339, UTC), if any.
    pub signing_time: Option<String>,
    /// The signature algorithm.
    pub algorithm: Option<String>,
    /// The trusted root the certificate was checked against, if the user gave one.
    pub trusted_root: Option<String>,
}

/// A customer's acceptance of the list issued to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub customer_id: String,
    pub annex_version: String,
    /// The register id of the issued document accepted.
    pub issued_id: i64,
    pub method: Method,
    /// True when the evidence continues the issued bytes and its signatures were verified.
    pub linked: bool,
    /// The day of acceptance, YYYY-MM-DD: the signing day, or the one a person recorded.
    pub accepted_on: String,
    /// The evidence file's path relative to the output folder.
    pub evidence: String,
    pub evidence_sha256: String,
    pub evidence_size: u64,
    /// The customer's signatures (countersigned only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<Signer>,
    /// Who recorded a manual acceptance for the customer ("NAME, TITLE").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A customer's objection to a list announced by a change notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objection {
    pub customer_id: String,
    pub annex_version: String,
    /// The day the objection was received, YYYY-MM-DD.
    pub received: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A record of the chain that is not an issued document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Accepted(Acceptance),
    Objected(Objection),
}

impl Event {
    fn kind(&self) -> &'static str {
        match self {
            Event::Accepted(_) => "accepted",
            Event::Objected(_) => "objected",
        }
    }

    pub fn customer_id(&self) -> &str {
        match self {
            Event::Accepted(a) => &a.customer_id,
            Event::Objected(o) => &o.customer_id,
        }
    }

    pub fn annex_version(&self) -> &str {
        match self {
            Event::Accepted(a) => &a.annex_version,
            Event::Objected(o) => &o.annex_version,
        }
    }

    fn body(&self) -> String {
        let value = match self {
            Event::Accepted(a) => serde_json::to_value(a),
            Event::Objected(o) => serde_json::to_value(o),
        };
        crate::annex::fingerprint::canonical_value(&value.unwrap_or_default())
    }
}

/// An acceptance or objection with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    pub id: i64,
    #[serde(flatten)]
    pub event: Event,
    pub hash: String,
}

const SCHEMA_BASE: &str = "
CREATE TABLE chain (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    type      TEXT NOT NULL CHECK (type IN (TYPES)),
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
);
CREATE TABLE issued (
    seq             INTEGER PRIMARY KEY REFERENCES chain (seq),
    customer_id     TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('dpa', 'notice')),
    annex_version   TEXT NOT NULL,
    annex_sha256    TEXT NOT NULL,
    template_sha256 TEXT NOT NULL,
    inputs_sha256   TEXT NOT NULL,
    pdf_sha256      TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    issued          TEXT NOT NULL,
    path            TEXT NOT NULL,
    files           TEXT NOTNULLDEADLINE
);
CREATE INDEX issued_customer ON issued (customer_id);
CREATE INDEX issued_inputs ON issued (inputs_sha256);
CREATE INDEX issued_annex ON issued (annex_version);
CREATE TABLE pending (
    id          INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER issued_no_update BEFORE UPDATE ON issued
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER issued_no_delete BEFORE DELETE ON issued
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
";

/// The record types schema 2 knows.
const TYPES_V2: &str = "'issued'";

/// The record types of schema 3.
const TYPES_V3: &str = "'issued', 'accepted', 'objected'";

/// What schema 3 adds: acceptances and objections, append-only like the rest.
const SCHEMA_V3_ADDED: &str = "
CREATE TABLE accepted (
    seq             INTEGER PRIMARY KEY REFERENCES chain (seq),
    customer_id     TEXT NOT NULL,
    annex_version   TEXT NOT NULL,
    evidence_sha256 TEXT NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX accepted_customer ON accepted (customer_id);
CREATE INDEX accepted_evidence ON accepted (evidence_sha256);
CREATE TABLE objected (
    seq           INTEGER PRIMARY KEY REFERENCES chain (seq),
    customer_id   TEXT NOT NULL,
    annex_version TEXT NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX objected_customer ON objected (customer_id);
CREATE TRIGGER accepted_no_update BEFORE UPDATE ON accepted
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER accepted_no_delete BEFORE DELETE ON accepted
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER objected_no_update BEFORE UPDATE ON objected
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER objected_no_delete BEFORE DELETE ON objected
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
";

/// The full schema of a version this dpa reads (2 or 3).
fn schema(version: i64) -> String {
    if version == SCHEMA_V2 {
        SCHEMA_BASE
            .replace("TYPES", TYPES_V2)
            .replace("NOTNULLDEADLINE", " NOT NULL")
    } else {
        let base = SCHEMA_BASE
            .replace("TYPES", TYPES_V3)
            .replace("NOTNULLDEADLINE", " NOT NULL,\n    deadline        TEXT");
        format!("{base}{SCHEMA_V3_ADDED}")
    }
}

/// The schema of registers made by dpa 0.1 (no chain, no version).
const SCHEMA_V1_TABLE: &str = "issued";

const COLUMNS_V2: &str = "i.seq, i.customer_id, i.kind, i.annex_version, i.annex_sha256, \
     i.template_sha256, i.inputs_sha256, i.pdf_sha256, i.key_id, i.issued, i.path, i.files, c.hash, \
     NULL";

/// The columns [`row`] reads, in its order.
const COLUMNS: &str = "i.seq, i.customer_id, i.kind, i.annex_version, i.annex_sha256, \
     i.template_sha256, i.inputs_sha256, i.pdf_sha256, i.key_id, i.issued, i.path, i.files, c.hash, \
     i.deadline";

/// [`COLUMNS`] for a schema, which has no deadline before schema 3.
fn columns(version: i64) -> &'static str {
    if version == SCHEMA_V2 {
        COLUMNS_V2
    } else {
        COLUMNS
    }
}

impl Register {
    /// Opens the register of a locked output folder for writing; creates it when missing,
    /// upgrades one made by dpa 0.1, and checks it before anything is written.
    pub fn open(out: &OutDir) -> Result<Register, RegisterError> {
        let path = out.path().join(FILE_NAME);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(out, &path)?,
            Err(e) => {
                return Err(RegisterError::Open {
                    path,
                    source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
                });
            }
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(RegisterError::Tampered {
                    path,
                    problem: "it is a symbolic link".into(),
                });
            }
            Ok(_) => {}
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = connect(&path, flags)?;
        if is_legacy(&conn, &path)? {
            upgrade(&conn, &path)?;
        } else if pragma(&conn, &path, "application_id")? == APPLICATION_ID
            && pragma(&conn, &path, "user_version")? == SCHEMA_V2
        {
            // Checked as schema 2 first: a damaged register is refused, not copied.
            drop(Register::checked(conn, path.clone())?);
            upgrade_v2(out, &path)?;
            conn = connect(&path, flags)?;
        }
        let register = Register::checked(conn, path)?;
        if register.version != SCHEMA_VERSION {
            return Err(RegisterError::Tampered {
                path: register.path,
                problem: format!("its schema version was set to {}", register.version),
            });
        }
        Ok(register)
    }

    /// Opens an existing register read-only, checked; an error if there is none.
    pub fn open_read(out: &Path) -> Result<Register, RegisterError> {
        let path = out.join(FILE_NAME);
        match std::fs::symlink_metadata(&path) {
            Err(_) => return Err(RegisterError::Missing { path }),
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(RegisterError::Tampered {
                    path,
                    problem: "it is a symbolic link".into(),
                });
            }
            Ok(_) => {}
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = connect(&path, flags)?;
        if is_legacy(&conn, &path)? {
            return Err(RegisterError::Legacy { path });
        }
        Register::checked(conn, path)
    }

    fn checked(conn: Connection, path: PathBuf) -> Result<Register, RegisterError> {
        let version = check_schema(&conn, &path)?;
        let head = check_chain(&conn, &path, version)?;
        Ok(Register {
            conn,
            path,
            head,
            version,
        })
    }

    /// The register's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The end of the verified chain.
    pub fn head(&self) -> &Head {
        &self.head
    }

    fn sql(&self, source: rusqlite::Error) -> RegisterError {
        RegisterError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Journals document sets before they are switched in; returns their journal ids.
    pub fn add_pending(&mut self, sets: &[Pending]) -> Result<Vec<i64>, RegisterError> {
        let path = self.path.clone();
        let sql = |source| RegisterError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        let mut ids = Vec::with_capacity(sets.len());
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO pending (customer_id, body) VALUES (?1, ?2)")
                .map_err(sql)?;
            for set in sets {
                let body = serde_json::to_string(set).unwrap_or_default();
                stmt.execute(params![set.customer_id, body]).map_err(sql)?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit().map_err(sql)?;
        Ok(ids)
    }

    /// The journal: sets staged by a writer that stopped before it finished them.
    pub fn pending(&self) -> Result<Vec<Pending>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM pending ORDER BY id")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(|e| self.sql(e))?;
            let mut pending: Pending =
                serde_json::from_str(&body).map_err(|e| RegisterError::Tampered {
                    path: self.path.clone(),
                    problem: format!("journal entry {id} is not readable: {e}"),
                })?;
            pending.id = id;
            out.push(pending);
        }
        Ok(out)
    }

    /// Appends the records of finished sets and clears their journal entries, in one
    /// transaction: the commit point of a document. Returns the new rows' ids.
    pub fn commit(&mut self, records: &[Record], done: &[i64]) -> Result<Vec<i64>, RegisterError> {
        let path = self.path.clone();
        let sql = |source| RegisterError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        let mut ids = Vec::with_capacity(records.len());
        let mut head = self.head.clone();
        {
            let next_seq: i64 = tx
                .query_row(
                    "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'chain'), 0)",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            let mut seq = next_seq;
            for r in records {
                seq += 1;
                let hash = insert_row(&tx, seq, &head.hash, r).map_err(sql)?;
                ids.push(seq);
                head = Head {
                    rows: head.rows + 1,
                    last_id: seq,
                    hash,
                };
            }
            let mut clear = tx
                .prepare_cached("DELETE FROM pending WHERE id = ?1")
                .map_err(sql)?;
            for id in done {
                clear.execute([id]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        self.head = head;
        Ok(ids)
    }

    /// Appends an acceptance or objection to the chain; returns its id.
    pub fn append(&mut self, event: &Event) -> Result<i64, RegisterError> {
        let path = self.path.clone();
        let sql = |source| RegisterError::Sql {
            path: path.clone(),
            source,
        };
        if self.version != SCHEMA_VERSION {
            return Err(RegisterError::Tampered {
                path,
                problem: format!("schema {} cannot hold acceptances", self.version),
            });
        }
        let tx = self.conn.transaction().map_err(sql)?;
        let seq: i64 = tx
            .query_row(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'chain'), 0) + 1",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        let hash = insert_event(&tx, seq, &self.head.hash, event).map_err(sql)?;
        tx.commit().map_err(sql)?;
        self.head = Head {
            rows: self.head.rows + 1,
            last_id: seq,
            hash,
        };
        Ok(seq)
    }

    /// Acceptances and objections in chain order, optionally only one customer's.
    pub fn events(&self, customer: Option<&str>) -> Result<Vec<EventRow>, RegisterError> {
        if self.version == SCHEMA_V2 {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.seq, c.type, c.hash, COALESCE(a.body, o.body) FROM chain c \
                 LEFT JOIN accepted a ON a.seq = c.seq LEFT JOIN objected o ON o.seq = c.seq \
                 WHERE c.type != 'issued' \
                 AND (?1 IS NULL OR a.customer_id = ?1 OR o.customer_id = ?1) ORDER BY c.seq",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([customer], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, hash, body) = row.map_err(|e| self.sql(e))?;
            let bad = |e: serde_json::Error| RegisterError::Tampered {
                path: self.path.clone(),
                problem: format!("row {id} is not readable: {e}"),
            };
            let event = if kind == "accepted" {
                Event::Accepted(serde_json::from_str(&body).map_err(bad)?)
            } else {
                Event::Objected(serde_json::from_str(&body).map_err(bad)?)
            };
            out.push(EventRow { id, event, hash });
        }
        Ok(out)
    }

    /// The acceptance recorded with this evidence file, if any.
    pub fn find_evidence(&self, sha256: &str) -> Result<Option<EventRow>, RegisterError> {
        Ok(self
            .events(None)?
            .into_iter()
            .find(|e| matches!(&e.event, Event::Accepted(a) if a.evidence_sha256 == sha256)))
    }

    /// Issued documents whose PDF has this SHA-256, oldest first.
    pub fn find_pdf(&self, sha256: &str) -> Result<Vec<Row>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM issued i JOIN chain c USING (seq) \
                 WHERE i.pdf_sha256 = ?1 ORDER BY i.seq",
                columns(self.version)
            ))
            .map_err(|e| self.sql(e))?;
        let rows = stmt.query_map([sha256], row).map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// Clears journal entries of sets that were undone.
    pub fn drop_pending(&mut self, ids: &[i64]) -> Result<(), RegisterError> {
        self.commit(&[], ids).map(drop)
    }

    /// The newest row issued for exactly these inputs, if any.
    pub fn find_inputs(&self, inputs_sha256: &str) -> Result<Option<Row>, RegisterError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {} FROM issued i JOIN chain c USING (seq) \
                     WHERE i.inputs_sha256 = ?1 ORDER BY i.seq DESC LIMIT 1",
                    columns(self.version)
                ),
                [inputs_sha256],
                row,
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// The newest row of every inputs digest (for a batch to skip what is done).
    pub fn latest_by_inputs(&self) -> Result<HashMap<String, Row>, RegisterError> {
        let rows = self.list(None, None)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.record.inputs_sha256.clone(), r))
            .collect())
    }

    /// The fingerprints issued under an annex version, with how many documents each.
    pub fn annex_fingerprints(&self, version: &str) -> Result<Vec<(String, i64)>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT annex_sha256, COUNT(*) FROM issued WHERE annex_version = ?1 \
                 GROUP BY annex_sha256 ORDER BY MIN(seq)",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([version], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// Rows in issue order, optionally only for one customer and/or one annex version.
    pub fn list(
        &self,
        customer: Option<&str>,
        annex: Option<&str>,
    ) -> Result<Vec<Row>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM issued i JOIN chain c USING (seq) \
                 WHERE (?1 IS NULL OR i.customer_id = ?1) AND (?2 IS NULL OR i.annex_version = ?2) \
                 ORDER BY i.seq",
                columns(self.version)
            ))
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![customer, annex], row)
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// One row by id.
    pub fn show(&self, id: i64) -> Result<Option<Row>, RegisterError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {} FROM issued i JOIN chain c USING (seq) WHERE i.seq = ?1",
                    columns(self.version)
                ),
                [id],
                row,
            )
            .optional()
            .map_err(|e| self.sql(e))
    }
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, RegisterError> {
    let open = |source| RegisterError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open_with_flags(path, flags).map_err(open)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(open)?;
    // The register is read through once when opened (the hash chain) and then appended
    // to: a small page cache (SQLite's default is 2 MB) keeps a batch's memory the same
    // whatever the register's size.
    // Only a hint: a damaged file fails here too, and is then reported by the checks
    // that explain what is wrong with it.
    let _ = conn.pragma_update(None, "cache_size", -512);
    Ok(conn)
}

/// Makes a new register: the schema is written to a temp file that is renamed into place,
/// so a crash never leaves a register without its schema.
fn create(out: &OutDir, path: &Path) -> Result<(), RegisterError> {
    create_with(out, path, |_| Ok(()))
}

/// Makes a register with schema 3 in a temp file, lets `fill` add rows, and renames it
/// over `path`.
fn create_with(
    out: &OutDir,
    path: &Path,
    fill: impl FnOnce(&Connection) -> rusqlite::Result<()>,
) -> Result<(), RegisterError> {
    let tmp_name = out.temp_name(FILE_NAME);
    let tmp = out.path().join(&tmp_name);
    let open = |source| RegisterError::Open {
        path: path.to_path_buf(),
        source,
    };
    {
        let conn = Connection::open_with_flags(
            &tmp,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )
        .map_err(open)?;
        let made = (|| {
            // Nothing reads the temp file before it is synced once, whole, and renamed
            // into place (below): syncing each of its transactions on the way (three
            // syncs of the journal, the folder and the file for each) only cost time.
            conn.pragma_update(None, "synchronous", "OFF")?;
            conn.pragma_update(None, "application_id", APPLICATION_ID)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            conn.pragma_update(None, "journal_mode", "DELETE")?;
            conn.execute_batch(&format!("BEGIN; {} COMMIT;", schema(SCHEMA_VERSION)))?;
            fill(&conn)
        })();
        if let Err(source) = made {
            drop(conn);
            let _ = std::fs::remove_file(&tmp);
            return Err(open(source));
        }
    }
    let io = |e: std::io::Error| open(rusqlite::Error::ToSqlConversionFailure(Box::new(e)));
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    out.rename_into_place(&tmp_name, FILE_NAME).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(std::io::Error::other(e.to_string()))
    })
}

/// Whether the file is a register made by dpa 0.1: the `issued` table and no version.
fn is_legacy(conn: &Connection, path: &Path) -> Result<bool, RegisterError> {
    let version = pragma(conn, path, "user_version")?;
    let app = pragma(conn, path, "application_id")?;
    if version != 0 || app != 0 {
        return Ok(false);
    }
    let has_v1: bool = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [SCHEMA_V1_TABLE],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|e| tampered_by_sql(path, e))?
        > 0;
    Ok(has_v1)
}

fn pragma(conn: &Connection, path: &Path, name: &str) -> Result<i64, RegisterError> {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .map_err(|e| tampered_by_sql(path, e))
}

/// SQLite's refusals of a file that is not a database, or a damaged one, in words.
fn tampered_by_sql(path: &Path, e: rusqlite::Error) -> RegisterError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => RegisterError::NotRegister {
            path: path.to_path_buf(),
        },
        Some(ErrorCode::DatabaseCorrupt) => RegisterError::Tampered {
            path: path.to_path_buf(),
            problem: "SQLite finds the file damaged (truncated or overwritten)".into(),
        },
        _ => RegisterError::Sql {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// Upgrades a dpa 0.1 register in one transaction: its rows keep their ids, in order,
/// and are chained; the old table goes. Refused when its triggers were removed.
fn upgrade(conn: &Connection, path: &Path) -> Result<(), RegisterError> {
    let triggers: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' \
             AND name IN ('issued_no_update', 'issued_no_delete') AND tbl_name = 'issued'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| tampered_by_sql(path, e))?;
    if triggers != 2 {
        return Err(RegisterError::Tampered {
            path: path.to_path_buf(),
            problem: "the append-only triggers of this schema-1 register were removed".into(),
        });
    }
    let sql = |source| RegisterError::Sql {
        path: path.to_path_buf(),
        source,
    };
    conn.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sql)?;
    // Schema 1's triggers and indexes carry the names schema 2 uses; they go with its table.
    conn.execute_batch(
        "BEGIN IMMEDIATE; DROP TRIGGER issued_no_update; DROP TRIGGER issued_no_delete; \
         DROP INDEX IF EXISTS issued_customer; DROP INDEX IF EXISTS issued_inputs; \
         ALTER TABLE issued RENAME TO issued_v1;",
    )
    .map_err(sql)?;
    let result = (|| -> rusqlite::Result<()> {
        conn.execute_batch(&schema(SCHEMA_VERSION))?;
        let records: Vec<(i64, Record)> = {
            let mut stmt = conn.prepare(
                "SELECT id, customer_id, kind, annex_version, annex_sha256, template_sha256, \
                 inputs_sha256, pdf_sha256, key_id, issued, path FROM issued_v1 ORDER BY id",
            )?;
            stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    Record {
                        customer_id: r.get(1)?,
                        kind: parse_kind(&r.get::<_, String>(2)?),
                        annex_version: r.get(3)?,
                        annex_sha256: r.get(4)?,
                        template_sha256: r.get(5)?,
                        inputs_sha256: r.get(6)?,
                        pdf_sha256: r.get(7)?,
                        key_id: r.get(8)?,
                        issued: r.get(9)?,
                        path: r.get(10)?,
                        // Schema 1 kept the PDF's hash only.
                        files: Vec::new(),
                        deadline: None,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut prev = GENESIS.to_string();
        for (seq, r) in &records {
            prev = insert_row(conn, *seq, &prev, r)?;
        }
        conn.execute_batch("DROP TABLE issued_v1;")?;
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        conn.execute_batch("COMMIT;")
    })();
    if let Err(source) = result {
        let _ = conn.execute_batch("ROLLBACK;");
        return Err(sql(source));
    }
    Ok(())
}

/// Upgrades a checked schema-2 register to schema 3: a new file with every row, journal
/// entry and the chain's highest position copied verbatim, checked before it is renamed
/// over the old one (which stays untouched until then).
fn upgrade_v2(out: &OutDir, path: &Path) -> Result<(), RegisterError> {
    let old = path.to_string_lossy().into_owned();
    create_with(out, path, |conn| {
        conn.execute("ATTACH DATABASE ?1 AS old", [&old])?;
        conn.execute_batch(
            "BEGIN; \
             INSERT INTO chain (seq, type, prev_hash, hash) \
                 SELECT seq, type, prev_hash, hash FROM old.chain ORDER BY seq; \
             INSERT INTO issued (seq, customer_id, kind, annex_version, annex_sha256, \
                 template_sha256, inputs_sha256, pdf_sha256, key_id, issued, path, files) \
                 SELECT * FROM old.issued ORDER BY seq; \
             INSERT INTO pending SELECT * FROM old.pending ORDER BY id; \
             DELETE FROM sqlite_sequence WHERE name = 'chain'; \
             INSERT INTO sqlite_sequence (name, seq) \
                 SELECT name, seq FROM old.sqlite_sequence WHERE name = 'chain'; \
             COMMIT;",
        )?;
        conn.execute_batch("DETACH DATABASE old;")?;
        // The copy must hold what the original held: checked here, before the rename.
        let version = check_schema(conn, path)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        check_chain(conn, path, version)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(())
    })
}

/// The schema objects as this dpa makes them: (type, name, sql), read off [`schema`]'s
/// text the way SQLite stores it in `sqlite_master` (each `CREATE` statement verbatim,
/// without its final semicolon). Building a scratch database to ask SQLite cost more
/// than the rest of opening the register; a unit test checks both give the same list.
fn expected_schema(version: i64) -> Vec<(String, String, Option<String>)> {
    let text = schema(version);
    let mut objects: Vec<_> = text
        .split("\nCREATE ")
        .skip(1)
        .map(|statement| {
            let statement = statement.trim_end();
            let statement = statement.strip_suffix(';').unwrap_or(statement);
            let mut words = statement.split_whitespace();
            let kind = words.next().unwrap_or_default().to_ascii_lowercase();
            let name = words.next().unwrap_or_default().to_string();
            (kind, name, Some(format!("CREATE {statement}")))
        })
        .collect();
    objects.sort();
    objects
}

fn schema_objects(conn: &Connection) -> rusqlite::Result<Vec<(String, String, Option<String>)>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// Checks the file, its version and that every table, index and trigger is exactly ours;
/// returns the schema version (2 or 3).
fn check_schema(conn: &Connection, path: &Path) -> Result<i64, RegisterError> {
    let tampered = |problem: String| RegisterError::Tampered {
        path: path.to_path_buf(),
        problem,
    };
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| tampered_by_sql(path, e))?;
    if check != "ok" {
        return Err(tampered(format!("SQLite's check failed: {check}")));
    }
    let app = pragma(conn, path, "application_id")?;
    let version = pragma(conn, path, "user_version")?;
    let objects = schema_objects(conn).map_err(|e| tampered_by_sql(path, e))?;
    if app != APPLICATION_ID {
        return Err(if objects.is_empty() {
            tampered("the file holds no tables: it was emptied or truncated".into())
        } else {
            RegisterError::NotRegister {
                path: path.to_path_buf(),
            }
        });
    }
    if version > SCHEMA_VERSION {
        return Err(RegisterError::Newer {
            path: path.to_path_buf(),
            version,
        });
    }
    if version != SCHEMA_VERSION && version != SCHEMA_V2 {
        return Err(tampered(format!("its schema version was set to {version}")));
    }
    let expected = expected_schema(version);
    for (kind, name, sql) in &expected {
        match objects.iter().find(|(k, n, _)| k == kind && n == name) {
            None if kind == "trigger" => {
                return Err(tampered(format!(
                    "the trigger `{name}` that keeps the register append-only was removed"
                )));
            }
            None => return Err(tampered(format!("the {kind} `{name}` was removed"))),
            Some((_, _, have)) if have != sql => {
                return Err(tampered(format!("the {kind} `{name}` was redefined")));
            }
            Some(_) => {}
        }
    }
    if let Some((kind, name, _)) = objects
        .iter()
        .find(|(k, n, _)| !expected.iter().any(|(ek, en, _)| ek == k && en == n))
    {
        return Err(tampered(format!("it has an unknown {kind} `{name}`")));
    }
    Ok(version)
}

/// Walks the whole chain: every row's hash matches its content and the row before it,
/// every row has its record (in the table its type names), and no row was removed from
/// the end.
fn check_chain(conn: &Connection, path: &Path, version: i64) -> Result<Head, RegisterError> {
    let tampered = |problem: String| RegisterError::Tampered {
        path: path.to_path_buf(),
        problem,
    };
    let sql = |e| tampered_by_sql(path, e);
    // Schema 2 has no acceptance or objection tables; NULLs stand in for them.
    let (events, joins) = if version == SCHEMA_V2 {
        ("NULL, NULL, NULL, NULL, NULL, NULL, NULL", "")
    } else {
        (
            "a.customer_id, a.annex_version, a.evidence_sha256, a.body, \
             o.customer_id, o.annex_version, o.body",
            "LEFT JOIN accepted a ON a.seq = c.seq LEFT JOIN objected o ON o.seq = c.seq",
        )
    };
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {}, c.prev_hash, c.type, c.seq, {events} FROM chain c \
             LEFT JOIN issued i ON i.seq = c.seq {joins} ORDER BY c.seq",
            columns(version)
        ))
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    let mut head = Head {
        rows: 0,
        last_id: 0,
        hash: GENESIS.to_string(),
    };
    while let Some(r) = rows.next().map_err(sql)? {
        let hash: String = r.get(12).map_err(sql)?;
        let prev: String = r.get(14).map_err(sql)?;
        let kind: String = r.get(15).map_err(sql)?;
        let seq: i64 = r.get(16).map_err(sql)?;
        let removed = || tampered(format!("the record of chain entry {seq} was removed"));
        let computed = match kind.as_str() {
            "issued" => {
                if r.get::<_, Option<i64>>(0).map_err(sql)?.is_none() {
                    return Err(removed());
                }
                row_hash(seq, &prev, &row(r).map_err(sql)?.record)
            }
            "accepted" => {
                let body: Option<String> = r.get(20).map_err(sql)?;
                let body = body.ok_or_else(removed)?;
                let a: Acceptance = serde_json::from_str(&body).map_err(|e| {
                    tampered(format!(
                        "row {seq} was edited: its record is not readable ({e})"
                    ))
                })?;
                let columns: (String, String, String) = (
                    r.get(17).map_err(sql)?,
                    r.get(18).map_err(sql)?,
                    r.get(19).map_err(sql)?,
                );
                if columns
                    != (
                        a.customer_id.clone(),
                        a.annex_version.clone(),
                        a.evidence_sha256.clone(),
                    )
                {
                    return Err(tampered(format!(
                        "row {seq} was edited: its columns no longer match its record"
                    )));
                }
                event_hash(seq, &prev, &Event::Accepted(a))
            }
            "objected" => {
                let body: Option<String> = r.get(23).map_err(sql)?;
                let body = body.ok_or_else(removed)?;
                let o: Objection = serde_json::from_str(&body).map_err(|e| {
                    tampered(format!(
                        "row {seq} was edited: its record is not readable ({e})"
                    ))
                })?;
                let columns: (String, String) = (r.get(21).map_err(sql)?, r.get(22).map_err(sql)?);
                if columns != (o.customer_id.clone(), o.annex_version.clone()) {
                    return Err(tampered(format!(
                        "row {seq} was edited: its columns no longer match its record"
                    )));
                }
                event_hash(seq, &prev, &Event::Objected(o))
            }
            other => {
                return Err(tampered(format!("row {seq} has an unknown type `{other}`")));
            }
        };
        if prev != head.hash {
            return Err(tampered(if head.rows == 0 {
                format!("row {seq} does not start the chain: rows before it were removed")
            } else {
                format!(
                    "row {seq} does not follow row {}: a row between them was removed or changed",
                    head.last_id
                )
            }));
        }
        if computed != hash {
            return Err(tampered(format!(
                "row {seq} was edited: its content no longer matches its hash"
            )));
        }
        head = Head {
            rows: head.rows + 1,
            last_id: seq,
            hash,
        };
    }
    let tables: &[&str] = if version == SCHEMA_V2 {
        &["issued"]
    } else {
        &["issued", "accepted", "objected"]
    };
    let mut records = 0i64;
    for table in tables {
        // A record whose chain entry has another type is counted but never walked above.
        let n: i64 = conn
            .query_row(
                &format!(
                    "SELECT COUNT(*) FROM {table} t JOIN chain c ON c.seq = t.seq AND c.type = '{table}'"
                ),
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        let all: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .map_err(sql)?;
        if n != all {
            return Err(tampered(format!(
                "{} {table} records are not in the chain",
                all - n
            )));
        }
        records += all;
    }
    if records != head.rows {
        return Err(tampered(format!(
            "{} records are not in the chain",
            records - head.rows
        )));
    }
    let highest: i64 = conn
        .query_row(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'chain'), 0)",
            [],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if highest != head.last_id {
        return Err(tampered(format!(
            "rows after row {} were removed (the register has held row {highest})",
            head.last_id
        )));
    }
    Ok(head)
}

/// Appends an acceptance or objection at `seq` after `prev`; returns its chain hash.
fn insert_event(conn: &Connection, seq: i64, prev: &str, e: &Event) -> rusqlite::Result<String> {
    let hash = event_hash(seq, prev, e);
    conn.prepare_cached("INSERT INTO chain (seq, type, prev_hash, hash) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![seq, e.kind(), prev, hash])?;
    match e {
        Event::Accepted(a) => conn
            .prepare_cached(
                "INSERT INTO accepted (seq, customer_id, annex_version, evidence_sha256, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![seq, a.customer_id, a.annex_version, a.evidence_sha256, e.body()])?,
        Event::Objected(o) => conn
            .prepare_cached(
                "INSERT INTO objected (seq, customer_id, annex_version, body) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![seq, o.customer_id, o.annex_version, e.body()])?,
    };
    Ok(hash)
}

/// An acceptance's or objection's chain hash, made like [`row_hash`] with its own type.
fn event_hash(seq: i64, prev: &str, e: &Event) -> String {
    let value = json!({
        "type": e.kind(),
        "seq": seq,
        "prev": prev,
        "record": serde_json::from_str::<serde_json::Value>(&e.body()).unwrap_or_default(),
    });
    crate::sign::sha256_hex(crate::annex::fingerprint::canonical_value(&value).as_bytes())
}

/// Appends one record at `seq` after `prev`; returns its chain hash.
fn insert_row(conn: &Connection, seq: i64, prev: &str, r: &Record) -> rusqlite::Result<String> {
    let hash = row_hash(seq, prev, r);
    conn.prepare_cached(
        "INSERT INTO chain (seq, type, prev_hash, hash) VALUES (?1, 'issued', ?2, ?3)",
    )?
    .execute(params![seq, prev, hash])?;
    conn.prepare_cached(
        "INSERT INTO issued (seq, customer_id, kind, annex_version, annex_sha256, \
         template_sha256, inputs_sha256, pdf_sha256, key_id, issued, path, files, deadline) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        seq,
        r.customer_id,
        r.kind.as_str(),
        r.annex_version,
        r.annex_sha256,
        r.template_sha256,
        r.inputs_sha256,
        r.pdf_sha256,
        r.key_id,
        r.issued,
        r.path,
        files_json(&r.files),
        r.deadline
    ])?;
    Ok(hash)
}

/// A row's chain hash: SHA-256 over the canonical JSON of its type, position, record and
/// the previous row's hash.
fn row_hash(seq: i64, prev: &str, record: &Record) -> String {
    crate::sign::sha256_hex(&row_canonical(seq, prev, record))
}

/// The text [`row_hash`] hashes: the canonical JSON (`fingerprint::canonical_value`) of
/// `{"type": "issued", "seq", "prev", "record"}`, written straight from the record with
/// its keys in their sorted order rather than through a `serde_json::Value`, since every
/// command that opens a register hashes every row. A test holds it to
/// `canonical_value` for any record.
fn row_canonical(seq: i64, prev: &str, r: &Record) -> Vec<u8> {
    fn put<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &[u8], value: &T) {
        out.extend_from_slice(key);
        crate::annex::fingerprint::scalar(value, out);
    }
    let mut out = Vec::with_capacity(1024);
    put(&mut out, b"{\"prev\":", prev);
    put(&mut out, b",\"record\":{\"annex_sha256\":", &r.annex_sha256);
    put(&mut out, b",\"annex_version\":", &r.annex_version);
    put(&mut out, b",\"customer_id\":", &r.customer_id);
    if let Some(deadline) = &r.deadline {
        put(&mut out, b",\"deadline\":", deadline);
    }
    out.extend_from_slice(b",\"files\":[");
    for (i, f) in r.files.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        put(&mut out, b"{\"name\":", &f.name);
        put(&mut out, b",\"sha256\":", &f.sha256);
        if let Some(size) = f.size {
            put(&mut out, b",\"size\":", &size);
        }
        out.push(b'}');
    }
    out.push(b']');
    put(&mut out, b",\"inputs_sha256\":", &r.inputs_sha256);
    put(&mut out, b",\"issued\":", &r.issued);
    put(&mut out, b",\"key_id\":", &r.key_id);
    put(&mut out, b",\"kind\":", &r.kind);
    put(&mut out, b",\"path\":", &r.path);
    put(&mut out, b",\"pdf_sha256\":", &r.pdf_sha256);
    put(&mut out, b",\"template_sha256\":", &r.template_sha256);
    put(&mut out, b"},\"seq\":", &seq);
    out.extend_from_slice(b",\"type\":\"issued\"}");
    out
}

fn files_json(files: &[FileHash]) -> String {
    serde_json::to_string(files).unwrap_or_else(|_| "[]".into())
}

fn parse_kind(s: &str) -> Kind {
    if s == "notice" {
        Kind::Notice
    } else {
        Kind::Dpa
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let files: String = r.get(11)?;
    Ok(Row {
        id: r.get(0)?,
        record: Record {
            customer_id: r.get(1)?,
            kind: parse_kind(&r.get::<_, String>(2)?),
            annex_version: r.get(3)?,
            annex_sha256: r.get(4)?,
            template_sha256: r.get(5)?,
            inputs_sha256: r.get(6)?,
            pdf_sha256: r.get(7)?,
            key_id: r.get(8)?,
            issued: r.get(9)?,
            path: r.get(10)?,
            files: serde_json::from_str(&files).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(11, rusqlite::types::Type::Text, e.into())
            })?,
            deadline: r.get(13)?,
        },
        hash: r.get(12)?,
    })
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #[test]
        fn a_rows_text_is_the_canonical_json_of_its_record(
            texts in proptest::collection::vec("[ -~\u{0}-\u{1f}äß€\u{2028}\u{1F600}]{0,10}", 13),
            seq in proptest::num::i64::ANY,
            notice in proptest::bool::ANY,
            deadline in proptest::bool::ANY,
            sizes in proptest::collection::vec(proptest::option::of(proptest::num::u64::ANY), 0..4),
        ) {
            let t = |i: usize| texts[i].clone();
            let record = super::Record {
                customer_id: t(0),
                kind: if notice { super::Kind::Notice } else { super::Kind::Dpa },
                annex_version: t(1),
                annex_sha256: t(2),
                template_sha256: t(3),
                inputs_sha256: t(4),
                pdf_sha256: t(5),
                key_id: t(6),
                issued: t(7),
                path: t(8),
                files: sizes
                    .iter()
                    .enumerate()
                    .map(|(i, &size)| super::FileHash { name: format!("{}{i}", t(9)), sha256: t(10), size })
                    .collect(),
                deadline: deadline.then(|| t(11)),
            };
            let value = serde_json::json!({
                "type": "issued",
                "seq": seq,
                "prev": t(12),
                "record": record,
            });
            let want = crate::annex::fingerprint::canonical_value(&value);
            let got = super::row_canonical(seq, &t(12), &record);
            proptest::prop_assert_eq!(String::from_utf8(got).unwrap(), want);
        }
    }

    use super::*;
    use crate::output::Wait;

    fn record(customer: &str, inputs: &str) -> Record {
        Record {
            customer_id: customer.into(),
            kind: Kind::Dpa,
            annex_version: "2026-05-26".into(),
            annex_sha256: "a".repeat(64),
            template_sha256: "t".repeat(64),
            inputs_sha256: inputs.into(),
            pdf_sha256: "p".repeat(64),
            key_id: "0123456789ABCDEF".into(),
            issued: "2026-06-01".into(),
            path: format!("{customer}/x.pdf"),
            files: vec![FileHash {
                name: "x.pdf".into(),
                sha256: "p".repeat(64),
                size: Some(1000),
            }],
            deadline: None,
        }
    }

    #[test]
    fn stored_schema_is_what_sqlite_records() {
        for version in [SCHEMA_V2, SCHEMA_VERSION] {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(&schema(version)).unwrap();
            let recorded = schema_objects(&conn).unwrap();
            let stored = expected_schema(version);
            assert_eq!(stored, recorded, "schema {version}");
            let kinds = |k: &str| stored.iter().filter(|(kind, _, _)| kind == k).count();
            assert!(kinds("table") >= 3 && kinds("index") >= 3 && kinds("trigger") >= 4);
        }
    }

    #[test]
    fn schema_check_refuses_changed_added_and_removed_objects() {
        let fresh = || {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(&schema(SCHEMA_VERSION)).unwrap();
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)
                .unwrap();
            conn
        };
        let path = Path::new("register.sqlite");
        let problem = |conn: &Connection| match check_schema(conn, path) {
            Err(RegisterError::Tampered { problem, .. }) => problem,
            other => panic!("expected a tampered register, got {other:?}"),
        };
        assert_eq!(check_schema(&fresh(), path).unwrap(), SCHEMA_VERSION);

        let conn = fresh();
        conn.execute_batch(
            "DROP TRIGGER chain_no_delete; CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain \
             BEGIN SELECT 1; END;",
        )
        .unwrap();
        assert_eq!(
            problem(&conn),
            "the trigger `chain_no_delete` was redefined"
        );

        let conn = fresh();
        conn.execute_batch("CREATE INDEX extra ON pending (body);")
            .unwrap();
        assert_eq!(problem(&conn), "it has an unknown index `extra`");

        let conn = fresh();
        conn.execute_batch("DROP INDEX issued_annex;").unwrap();
        assert_eq!(problem(&conn), "the index `issued_annex` was removed");
    }

    #[test]
    fn rows_are_chained_listed_and_read_back_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::lock(dir.path(), Wait::No, || {}).unwrap();
        let mut reg = Register::open(&out).unwrap();
        let ids = reg
            .commit(&[record("acme", "i1"), record("globex", "i2")], &[])
            .unwrap();
        assert_eq!(ids, vec![1, 2]);
        assert_eq!(reg.head().rows, 2);
        assert_eq!(reg.list(Some("acme"), None).unwrap().len(), 1);
        assert_eq!(
            reg.annex_fingerprints("2026-05-26").unwrap(),
            vec![("a".repeat(64), 2)]
        );
        assert!(reg.find_inputs("i2").unwrap().is_some());
        let head = reg.head().clone();
        drop(reg);
        let read = Register::open_read(dir.path()).unwrap();
        assert_eq!(read.head(), &head);
        assert_eq!(
            read.show(2).unwrap().unwrap().record,
            record("globex", "i2")
        );
    }

    #[test]
    fn a_journal_entry_survives_until_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::lock(dir.path(), Wait::No, || {}).unwrap();
        let mut reg = Register::open(&out).unwrap();
        let pending = Pending {
            id: 0,
            customer_id: "acme".into(),
            staging: ".acme.staging-1-0".into(),
            records: vec![record("acme", "i1")],
            files: record("acme", "i1").files,
        };
        let ids = reg.add_pending(std::slice::from_ref(&pending)).unwrap();
        let found = reg.pending().unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].records, pending.records);
        reg.commit(&found[0].records, &ids).unwrap();
        assert!(reg.pending().unwrap().is_empty());
        assert_eq!(reg.list(None, None).unwrap().len(), 1);
    }

    #[test]
    fn a_schema_1_register_is_upgraded_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            conn.execute_batch(
                "CREATE TABLE issued (id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL, \
                 kind TEXT NOT NULL, annex_version TEXT NOT NULL, annex_sha256 TEXT NOT NULL, \
                 template_sha256 TEXT NOT NULL, inputs_sha256 TEXT NOT NULL, pdf_sha256 TEXT NOT NULL, \
                 key_id TEXT NOT NULL, issued TEXT NOT NULL, path TEXT NOT NULL);
                 CREATE INDEX issued_customer ON issued (customer_id);
                 CREATE INDEX issued_inputs ON issued (inputs_sha256);
                 CREATE TRIGGER issued_no_update BEFORE UPDATE ON issued
                     BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
                 CREATE TRIGGER issued_no_delete BEFORE DELETE ON issued
                     BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
                 INSERT INTO issued VALUES (1, 'acme', 'dpa', '1', 'a', 't', 'i1', 'p', 'k', '2026-06-01', 'acme/x.pdf');
                 INSERT INTO issued VALUES (2, 'beta', 'notice', '1', 'a', 't', 'i2', 'p', 'k', '2026-06-02', 'beta/y.pdf');",
            )
            .unwrap();
        }
        assert!(matches!(
            Register::open_read(dir.path()),
            Err(RegisterError::Legacy { .. })
        ));
        let out = OutDir::lock(dir.path(), Wait::No, || {}).unwrap();
        let reg = Register::open(&out).unwrap();
        let rows = reg.list(None, None).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[1].id, rows[1].record.kind), (2, Kind::Notice));
        drop(reg);
        assert_eq!(Register::open_read(dir.path()).unwrap().head().rows, 2);
    }

    fn acceptance(customer: &str) -> Event {
        Event::Accepted(Acceptance {
            customer_id: customer.into(),
            annex_version: "2026-05-26".into(),
            issued_id: 1,
            method: Method::Manual,
            linked: false,
            accepted_on: "2026-06-12".into(),
            evidence: format!("{customer}/x.manual-0123.png"),
            evidence_sha256: "e".repeat(64),
            evidence_size: 10,
            signers: Vec::new(),
            by: Some("Jane Roe, CEO".into()),
            note: None,
        })
    }

    /// A schema-2 register as dpa wrote it before acceptances: two chained rows.
    fn schema_2_register(dir: &Path) {
        let conn = Connection::open(dir.join(FILE_NAME)).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_V2).unwrap();
        conn.execute_batch(&schema(SCHEMA_V2)).unwrap();
        let mut prev = GENESIS.to_string();
        for (seq, r) in [(1, record("acme", "i1")), (2, record("beta", "i2"))] {
            let hash = row_hash(seq, &prev, &r);
            conn.execute(
                "INSERT INTO chain (seq, type, prev_hash, hash) VALUES (?1, 'issued', ?2, ?3)",
                params![seq, prev, hash],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO issued VALUES (?1, ?2, 'dpa', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    seq,
                    r.customer_id,
                    r.annex_version,
                    r.annex_sha256,
                    r.template_sha256,
                    r.inputs_sha256,
                    r.pdf_sha256,
                    r.key_id,
                    r.issued,
                    r.path,
                    files_json(&r.files)
                ],
            )
            .unwrap();
            prev = hash;
        }
    }

    #[test]
    fn a_schema_2_register_is_read_as_it_is_and_upgraded_by_the_next_writer() {
        let dir = tempfile::tempdir().unwrap();
        schema_2_register(dir.path());
        let read = Register::open_read(dir.path()).unwrap();
        let head = read.head().clone();
        assert_eq!(head.rows, 2);
        assert!(read.events(None).unwrap().is_empty());
        assert_eq!(
            read.list(None, None).unwrap()[1].record,
            record("beta", "i2")
        );
        drop(read);
        let out = OutDir::lock(dir.path(), Wait::No, || {}).unwrap();
        let mut reg = Register::open(&out).unwrap();
        assert_eq!(reg.head(), &head, "every row kept, same chain");
        let id = reg.append(&acceptance("acme")).unwrap();
        assert_eq!(id, 3);
        drop(reg);
        let read = Register::open_read(dir.path()).unwrap();
        assert_eq!(pragma(&read.conn, dir.path(), "user_version").unwrap(), 3);
        assert_eq!(read.head().rows, 3);
        assert_eq!(
            read.events(Some("acme")).unwrap()[0].event,
            acceptance("acme")
        );
        assert!(read.events(Some("beta")).unwrap().is_empty());
    }

    #[test]
    fn a_damaged_schema_2_register_is_refused_not_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        schema_2_register(dir.path());
        {
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            conn.execute_batch(
                "DROP TRIGGER issued_no_update; UPDATE issued SET customer_id = 'evil' WHERE seq = 1;",
            )
            .unwrap();
        }
        let out = OutDir::lock(dir.path(), Wait::No, || {}).unwrap();
        assert!(matches!(
            Register::open(&out),
            Err(RegisterError::Tampered { .. })
        ));
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(pragma(&conn, dir.path(), "user_version").unwrap(), 2);
    }

    #[test]
    fn acceptances_and_objections_are_chained_and_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::lock(dir.path(), Wait::No, || {}).unwrap();
        let mut reg = Register::open(&out).unwrap();
        reg.commit(&[record("acme", "i1")], &[]).unwrap();
        reg.append(&acceptance("acme")).unwrap();
        let objection = Event::Objected(Objection {
            customer_id: "acme".into(),
            annex_version: "2026-07-15".into(),
            received: "2026-06-20".into(),
            note: Some("by e-mail".into()),
        });
        reg.append(&objection).unwrap();
        reg.commit(&[record("acme", "i2")], &[]).unwrap();
        assert_eq!(reg.head().rows, 4);
        assert!(reg.find_evidence(&"e".repeat(64)).unwrap().is_some());
        assert!(
            reg.conn
                .execute("UPDATE accepted SET body = '{}'", [])
                .is_err()
        );
        assert!(reg.conn.execute("DELETE FROM objected", []).is_err());
        drop(reg);
        assert_eq!(Register::open_read(dir.path()).unwrap().head().rows, 4);

        // An edit behind the triggers' back is found by every open.
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        let trigger: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'accepted_no_update'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute_batch(&format!(
            "DROP TRIGGER accepted_no_update; \
             UPDATE accepted SET body = replace(body, '2026-06-12', '2026-05-01'); {trigger};"
        ))
        .unwrap();
        drop(conn);
        let err = Register::open_read(dir.path()).err().unwrap();
        assert!(err.to_string().contains("row 2 was edited"), "{err}");
    }
}
