//! A writing session on an output folder: the folder locked, the register opened and
//! checked, and an interrupted commit completed or undone, all before any document is
//! made; then document sets committed so that their files and register rows become
//! visible together.
//!
//! In: the output folder's path. Out: a [`Session`] that stages customers' sets
//! ([`Session::stage`], safe from many threads) and commits groups of them
//! ([`Session::commit`]).
//!
//! The commit of a group, each step durable before the next:
//! 1. each set is staged: a complete copy of the customer's folder under a temp name,
//!    every new file fsynced (`output`), or, for a batch ([`Session::sync_per_group`]),
//!    the whole file system synced once when the group's commit begins;
//! 2. the register journals the sets (`pending`: the staging names, the rows to add and
//!    the hashes of the files the folder will hold);
//! 3. each staged folder is switched in with one rename (an exchange when the folder
//!    exists), and the output folder is fsynced;
//! 4. the register appends the rows and clears the journal in one transaction: the
//!    commit point;
//! 5. the old copies are removed.
//!
//! A crash before 2 leaves only temp folders (removed by the next writer); between 2 and
//! 4 the next writer finds the journal and looks at each customer's folder: if it holds
//! the journalled files, the switch happened and the rows are appended; if not, the
//! staging folder is removed. At every instant the customer's folder is the old complete
//! set or the new one. If step 4 fails (a full disk), the switches are undone first.

use std::sync::{Mutex, MutexGuard};

use crate::output::{Durability, OutDir, Staged, Switched, Wait};
use crate::register::{FileHash, Pending, Record, Register};
use crate::sign;

use super::IssueError;

/// What opening a session found and finished from an interrupted writer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Customers whose interrupted commit was completed (rows added).
    pub completed: Vec<String>,
    /// Customers whose interrupted commit was undone (staged files removed).
    pub undone: Vec<String>,
    /// Temp folders and files of stopped writers that were removed.
    pub removed: usize,
}

/// A customer's set of files, staged and waiting for its commit.
#[derive(Debug)]
pub struct StagedSet {
    pub staged: Staged,
    /// Rows to add once the set is in place (none for a repair).
    pub records: Vec<Record>,
    /// The files of the set with their hashes.
    pub files: Vec<FileHash>,
}

/// A locked output folder with its checked register.
pub struct Session {
    out: OutDir,
    // Only the committing thread writes it; stagers on other threads never touch it.
    register: Mutex<Register>,
    recovery: Recovery,
    durability: Durability,
}

impl Session {
    /// Locks the folder (calling `on_wait` first when another writer holds it), opens and
    /// checks the register, and finishes what an interrupted writer left.
    pub fn open(
        out: &std::path::Path,
        wait: Wait,
        on_wait: impl FnOnce(),
    ) -> Result<Session, IssueError> {
        let out = OutDir::lock(out, wait, on_wait)?;
        let register = Register::open(&out)?;
        let mut session = Session {
            out,
            register: Mutex::new(register),
            recovery: Recovery::default(),
            durability: Durability::Now,
        };
        session.recover()?;
        Ok(session)
    }

    /// Stages files without an fsync each and makes a whole group durable at its commit
    /// with one sync of the file system (see [`OutDir::sync_all_staged`]): for a batch,
    /// which commits many sets at once. Step 1 of the commit then ends when the group's
    /// commit begins; the order of the steps, and so what a crash can leave, is the same.
    pub fn sync_per_group(mut self) -> Session {
        self.durability = Durability::Later;
        self
    }

    /// The locked folder.
    pub fn out(&self) -> &OutDir {
        &self.out
    }

    /// The checked register.
    pub fn register(&self) -> MutexGuard<'_, Register> {
        // A panic while holding it leaves nothing half-done: SQLite rolls back.
        self.register.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What opening the session completed or undone.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// A path under the output folder, for messages.
    pub fn display(&self, relative: &str) -> String {
        self.out.path().join(relative).display().to_string()
    }

    /// Reads a file of a customer's folder (never through a link).
    pub fn read(&self, customer: &str, name: &str) -> Result<Option<Vec<u8>>, IssueError> {
        Ok(self.out.read(customer, name)?)
    }

    /// The files of a registered set that are missing or differ from their hash.
    pub fn damaged(&self, record: &Record) -> Result<Vec<String>, IssueError> {
        let pdf_name = record.path.rsplit('/').next().unwrap_or(&record.path);
        // Rows made by dpa 0.1 know the PDF's hash only.
        let legacy = [FileHash {
            name: pdf_name.to_string(),
            sha256: record.pdf_sha256.clone(),
            size: None,
        }];
        let files = if record.files.is_empty() {
            &legacy[..]
        } else {
            &record.files[..]
        };
        self.damaged_files(&record.customer_id, files)
    }

    fn damaged_files(&self, customer: &str, files: &[FileHash]) -> Result<Vec<String>, IssueError> {
        let mut damaged = Vec::new();
        for file in files {
            match self.out.read(customer, &file.name)? {
                Some(bytes) if sign::sha256_hex(&bytes) == file.sha256 => {}
                _ => damaged.push(file.name.clone()),
            }
        }
        Ok(damaged)
    }

    /// Refuses an annex whose version label was issued from this folder with other
    /// content: customers would hold two different lists under one name.
    pub fn check_annex(&self, version: &str, fingerprint: &str) -> Result<(), IssueError> {
        let issued = self.register().annex_fingerprints(version)?;
        match issued.into_iter().find(|(sha, _)| sha != fingerprint) {
            Some((other, count)) => Err(IssueError::AnnexLabel {
                version: version.to_string(),
                issued: other,
                count,
                given: fingerprint.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Stages a customer's set: the folder's current files stay (hard links) except those
    /// the set replaces.
    pub fn stage(
        &self,
        customer: &str,
        files: &[(String, &[u8])],
        records: Vec<Record>,
    ) -> Result<StagedSet, IssueError> {
        self.stage_hashed(customer, files, records, &[])
    }

    /// [`Session::stage`] for files some of whose hashes the caller computed from these
    /// very bytes (`known`, by name and size); the others are hashed here.
    pub fn stage_hashed(
        &self,
        customer: &str,
        files: &[(String, &[u8])],
        records: Vec<Record>,
        known: &[FileHash],
    ) -> Result<StagedSet, IssueError> {
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        // dpa 0.1 wrote `.NAME.partial` temp files into customer folders; they stay behind.
        let keep = |name: &str| {
            !(names.contains(&name) || (name.starts_with('.') && name.ends_with(".partial")))
        };
        let staged = self.out.stage(customer, keep, files, self.durability)?;
        Ok(StagedSet {
            staged,
            records,
            files: files
                .iter()
                .map(|(name, bytes)| {
                    let size = Some(bytes.len() as u64);
                    match known.iter().find(|h| &h.name == name && h.size == size) {
                        Some(h) => h.clone(),
                        None => FileHash {
                            name: name.clone(),
                            sha256: sign::sha256_hex(bytes),
                            size,
                        },
                    }
                })
                .collect(),
        })
    }

    /// Commits staged sets: journal, switch, sync, rows, cleanup (see the module docs).
    /// Returns the ids of the rows added, set by set.
    pub fn commit(&self, sets: Vec<StagedSet>) -> Result<Vec<Vec<i64>>, IssueError> {
        match self.commit_what_fits(sets, || {})? {
            (done, None) => Ok(done),
            // Only part of the group fitted; the caller asked for all or an error.
            (_, Some(e)) => Err(e),
        }
    }

    /// Like [`Session::commit`], but when the register cannot journal the group (a full
    /// disk), the newest staged sets are removed one by one to free space and the rest is
    /// tried again. Returns the rows of the sets committed, which are the first ones; the
    /// others were removed, with the error that made the first attempt fail. An error when
    /// not even the first set could be committed.
    /// `on_full` is called once, before the first retry: a caller still staging other sets
    /// stops there, so the space freed goes to the register.
    pub fn commit_what_fits(
        &self,
        mut sets: Vec<StagedSet>,
        on_full: impl FnOnce(),
    ) -> Result<(Vec<Vec<i64>>, Option<IssueError>), IssueError> {
        let mut on_full = Some(on_full);
        let mut failure = None;
        loop {
            if sets.is_empty() {
                return Ok((Vec::new(), failure));
            }
            match self.commit_sets(&sets) {
                Ok(rows) => return Ok((rows, failure)),
                // Nothing of this attempt is left: free the newest set's space and try the
                // others again, unless it was the last one.
                Err(e) => {
                    if let Some(on_full) = on_full.take() {
                        on_full();
                    }
                    if let Some(last) = sets.pop() {
                        let _ = self.out.remove_staging(&last.staged.name);
                    }
                    if sets.is_empty() {
                        return Err(e);
                    }
                    failure.get_or_insert(e);
                }
            }
        }
    }

    /// One attempt at committing `sets`: journal, switch, fsync, register. On an error
    /// nothing of it remains (the old folders are back, the journal entries are gone) and
    /// the staged sets are still in place for another attempt.
    fn commit_sets(&self, sets: &[StagedSet]) -> Result<Vec<Vec<i64>>, IssueError> {
        if self.durability == Durability::Later {
            // Step 1 ends here: the staged files reach the disk before the journal names
            // them.
            self.out.sync_all_staged()?;
        }
        let mut register = self.register();
        let pending: Vec<Pending> = sets
            .iter()
            .map(|s| Pending {
                id: 0,
                customer_id: s.staged.customer.clone(),
                staging: s.staged.name.clone(),
                records: s.records.clone(),
                files: s.files.clone(),
            })
            .collect();
        let ids = register.add_pending(&pending)?;
        let mut switched: Vec<Switched> = Vec::with_capacity(sets.len());
        let result = (|| -> Result<Vec<Vec<i64>>, IssueError> {
            for s in sets {
                switched.push(self.out.switch(&s.staged)?);
            }
            self.out.sync()?;
            let records: Vec<Record> = sets.iter().flat_map(|s| s.records.clone()).collect();
            let rows = register.commit(&records, &ids)?;
            let mut rows = rows.into_iter();
            Ok(sets
                .iter()
                .map(|s| rows.by_ref().take(s.records.len()).collect())
                .collect())
        })();
        match result {
            Ok(rows) => {
                for s in &switched {
                    // An old copy left here is removed by the next writer.
                    let _ = self.out.remove_staging(&s.staging);
                }
                Ok(rows)
            }
            Err(e) => {
                // Nothing of this group reached the register: put the old folders back
                // (the staged sets return to their staging names).
                for s in switched.iter().rev() {
                    let _ = self.out.unswitch(s);
                }
                let _ = self.out.sync();
                // The journal entries go too; if the register cannot be written now, the
                // next writer finds them and sees that nothing was switched in.
                let _ = register.drop_pending(&ids);
                Err(e)
            }
        }
    }

    /// Completes or undoes the journalled commits of a writer that stopped, then removes
    /// its temp folders and files.
    fn recover(&mut self) -> Result<(), IssueError> {
        let mut recovery = Recovery::default();
        {
            let mut register = self.register();
            for p in register.pending()? {
                if p.files.is_empty() || !self.damaged_files(&p.customer_id, &p.files)?.is_empty() {
                    self.out.remove_staging(&p.staging)?;
                    register.drop_pending(&[p.id])?;
                    recovery.undone.push(p.customer_id);
                } else {
                    register.commit(&p.records, &[p.id])?;
                    self.out.remove_staging(&p.staging)?;
                    recovery.completed.push(p.customer_id);
                }
            }
        }
        for name in self.out.leftovers()? {
            self.out.remove_leftover(&name)?;
            recovery.removed += 1;
        }
        self.recovery = recovery;
        Ok(())
    }
}
