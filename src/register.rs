//! The issuance register: an append-only SQLite database in the output folder recording
//! every document issued (who got which annex version, signed with which key).
//!
//! In: [`Record`]s from `generate` and `batch`. Out: rows listed or shown by `dpa register`.
//! Rows are only ever added: triggers refuse UPDATE and DELETE.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The register's file name inside the output folder.
pub const FILE_NAME: &str = "register.sqlite";

/// Errors reading or writing the register.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("cannot open the register {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("register {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("no register at {path}")]
    Missing { path: PathBuf },
}

/// What kind of document a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Dpa,
    Notice,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dpa => "dpa",
            Kind::Notice => "notice",
        }
    }

    fn parse(s: &str) -> Kind {
        if s == "notice" {
            Kind::Notice
        } else {
            Kind::Dpa
        }
    }
}

/// One issued document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub customer_id: String,
    pub kind: Kind,
    pub annex_version: String,
    pub annex_sha256: String,
    pub template_sha256: String,
    pub inputs_sha256: String,
    pub pdf_sha256: String,
    pub key_id: String,
    /// The issue date, YYYY-MM-DD.
    pub issued: String,
    /// The PDF's path relative to the output folder.
    pub path: String,
}

/// A record with its row id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub id: i64,
    #[serde(flatten)]
    pub record: Record,
}

/// An open register.
pub struct Register {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS issued (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id     TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('dpa', 'notice')),
    annex_version   TEXT NOT NULL,
    annex_sha256    TEXT NOT NULL,
    template_sha256 TEXT NOT NULL,
    inputs_sha256   TEXT NOT NULL,
    pdf_sha256      TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    issued          TEXT NOT NULL,
    path            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS issued_customer ON issued (customer_id);
CREATE INDEX IF NOT EXISTS issued_inputs ON issued (inputs_sha256);
CREATE TRIGGER IF NOT EXISTS issued_no_update BEFORE UPDATE ON issued
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER IF NOT EXISTS issued_no_delete BEFORE DELETE ON issued
    BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
";

const COLUMNS: &str = "id, customer_id, kind, annex_version, annex_sha256, template_sha256, \
                       inputs_sha256, pdf_sha256, key_id, issued, path";

impl Register {
    /// Opens (creating if needed) the register in the output folder `out`.
    pub fn open(out: &Path) -> Result<Register, RegisterError> {
        let path = out.join(FILE_NAME);
        let open = |source| RegisterError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(open)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(open)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open)?;
        conn.execute_batch(SCHEMA).map_err(open)?;
        Ok(Register { conn, path })
    }

    /// Opens an existing register for reading; an error if there is none.
    pub fn open_existing(out: &Path) -> Result<Register, RegisterError> {
        let path = out.join(FILE_NAME);
        if !path.exists() {
            return Err(RegisterError::Missing { path });
        }
        Register::open(out)
    }

    fn sql(&self, source: rusqlite::Error) -> RegisterError {
        RegisterError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends records in one transaction; returns their row ids.
    pub fn add(&mut self, records: &[Record]) -> Result<Vec<i64>, RegisterError> {
        let path = self.path.clone();
        let sql = |source| RegisterError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        let mut ids = Vec::with_capacity(records.len());
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO issued (customer_id, kind, annex_version, annex_sha256, \
                     template_sha256, inputs_sha256, pdf_sha256, key_id, issued, path) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(sql)?;
            for r in records {
                stmt.execute(params![
                    r.customer_id,
                    r.kind.as_str(),
                    r.annex_version,
                    r.annex_sha256,
                    r.template_sha256,
                    r.inputs_sha256,
                    r.pdf_sha256,
                    r.key_id,
                    r.issued,
                    r.path
                ])
                .map_err(sql)?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit().map_err(sql)?;
        Ok(ids)
    }

    /// The newest row issued for exactly these inputs, if any.
    pub fn find_inputs(&self, inputs_sha256: &str) -> Result<Option<Row>, RegisterError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM issued WHERE inputs_sha256 = ?1 ORDER BY id DESC LIMIT 1"
                ),
                [inputs_sha256],
                row,
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Every inputs digest in the register (for a batch to skip what is done).
    pub fn all_inputs(&self) -> Result<std::collections::HashSet<String>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT inputs_sha256 FROM issued")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
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
                "SELECT {COLUMNS} FROM issued \
                 WHERE (?1 IS NULL OR customer_id = ?1) AND (?2 IS NULL OR annex_version = ?2) \
                 ORDER BY id"
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
                &format!("SELECT {COLUMNS} FROM issued WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
            .map_err(|e| self.sql(e))
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        record: Record {
            customer_id: r.get(1)?,
            kind: Kind::parse(&r.get::<_, String>(2)?),
            annex_version: r.get(3)?,
            annex_sha256: r.get(4)?,
            template_sha256: r.get(5)?,
            inputs_sha256: r.get(6)?,
            pdf_sha256: r.get(7)?,
            key_id: r.get(8)?,
            issued: r.get(9)?,
            path: r.get(10)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        }
    }

    #[test]
    fn rows_are_added_listed_and_never_changed() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Register::open(dir.path()).unwrap();
        let ids = reg
            .add(&[record("acme", "i1"), record("globex", "i2")])
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(reg.list(Some("acme"), None).unwrap().len(), 1);
        assert_eq!(reg.list(None, Some("2026-05-26")).unwrap().len(), 2);
        assert_eq!(reg.list(None, Some("other")).unwrap().len(), 0);
        assert_eq!(
            reg.show(ids[1]).unwrap().unwrap().record.customer_id,
            "globex"
        );
        assert!(reg.find_inputs("i2").unwrap().is_some());
        assert!(reg.find_inputs("i3").unwrap().is_none());
        assert!(reg.conn.execute("DELETE FROM issued", []).is_err());
        assert!(
            reg.conn
                .execute("UPDATE issued SET kind = 'notice'", [])
                .is_err()
        );
        drop(reg);
        let reg = Register::open_existing(dir.path()).unwrap();
        assert_eq!(reg.list(None, None).unwrap().len(), 2);
        assert_eq!(reg.all_inputs().unwrap().len(), 2);
    }
}
