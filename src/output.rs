//! The output folder, treated like a database: one writer at a time, every customer's
//! folder replaced whole or not at all, nothing outside it touched.
//!
//! In: the folder's path. Out: an [`OutDir`], which holds the folder's lock and does every
//! file operation relative to the folder's own descriptor, never following a symbolic
//! link: a customer folder (or anything in it) that is a link is refused with an error,
//! so nothing is read, written or deleted outside the folder.
//!
//! A customer's new set of files is staged as a complete copy of its folder under a
//! hidden temp name (files that stay are hard links, new ones are written and fsynced),
//! then switched in with one rename: `renameat2(RENAME_EXCHANGE)` when the folder exists,
//! so that at every instant `OUT/<id>` is the old complete folder or the new one; the old
//! copy is removed afterwards. Temp names carry the process id and a counter, and stale
//! ones are removed only by the lock holder (whose writer died, so they are no one's).
//!
//! Also: [`write_atomic`] for single files outside the output folder (temp file, fsync,
//! rename), and [`slug`] for file names.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};

/// Marks a staging folder's name: `.<id>.staging-<pid>-<n>`.
const STAGING: &str = ".staging-";

/// Marks a temp file's name: `.<name>.tmp-<pid>-<n>`.
const TEMP: &str = ".tmp-";

/// Why the output folder could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is a symbolic link; dpa never reads or writes through links in the output folder", path.display())]
    Symlink { path: PathBuf },
    #[error("{} is not a folder", path.display())]
    NotFolder { path: PathBuf },
    #[error("another dpa is writing to {}", path.display())]
    Busy { path: PathBuf },
    #[error("`{name}` is not a plain file name; refusing to write outside {}", dir.display())]
    BadName { name: String, dir: PathBuf },
}

impl crate::error::Hint for OutputError {
    fn hint(&self) -> Option<String> {
        match self {
            OutputError::Symlink { .. } => Some(
                "move the link away (or replace it with a real folder), then run dpa again".into(),
            ),
            OutputError::Busy { .. } => {
                Some("wait for it to finish, or run without --no-wait to wait for it".into())
            }
            _ => None,
        }
    }
}

/// Whether to wait for another writer's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait until the other writer finishes.
    Block,
    /// Fail at once.
    No,
}

/// A locked output folder.
pub struct OutDir {
    path: PathBuf,
    dir: OwnedFd,
    // Held for the life of the value; the kernel releases it when the process ends.
    _lock: File,
}

/// When the files of a staged folder are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// At once: each file and the staging folder are fsynced as they are written.
    Now,
    /// At the commit of a group: [`OutDir::sync_all_staged`] (one `syncfs`).
    Later,
}

/// A complete copy of a customer's folder under a temp name, ready to be switched in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub customer: String,
    /// The staging folder's name in the output folder.
    pub name: String,
}

/// What a switch did: the folder's old copy now has the staging name, if there was one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switched {
    pub customer: String,
    pub staging: String,
    /// Whether a previous folder was exchanged (it now sits under `staging`).
    pub replaced: bool,
}

/// A customer folder's entries: name and whether it is a folder.
pub type Listing = Vec<(String, bool)>;

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl OutDir {
    /// Creates the folder if needed and takes its lock (an exclusive `flock` on the folder
    /// itself, so no lock file is left behind); `on_wait` is called before this waits (or
    /// fails, with [`Wait::No`]) because another process holds it.
    pub fn lock(path: &Path, wait: Wait, on_wait: impl FnOnce()) -> Result<OutDir, OutputError> {
        let io = |action, source| OutputError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        fs::create_dir_all(path).map_err(|e| io("create the output folder", e))?;
        let dir = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io("open the output folder", e.into()))?;
        let lock =
            File::from(rustix::io::fcntl_dupfd_cloexec(&dir, 0).map_err(|e| io("lock", e.into()))?);
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                on_wait();
                if wait == Wait::No {
                    return Err(OutputError::Busy {
                        path: path.to_path_buf(),
                    });
                }
                lock.lock().map_err(|e| io("lock", e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(io("lock", e)),
        }
        Ok(OutDir {
            path: path.to_path_buf(),
            dir,
            _lock: lock,
        })
    }

    /// The folder's path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, action: &'static str, name: &str, source: io::Error) -> OutputError {
        OutputError::Io {
            action,
            path: self.path.join(name),
            source,
        }
    }

    /// A fresh temp name for a file beside `name` in the output folder.
    pub fn temp_name(&self, name: &str) -> String {
        format!(".{name}{TEMP}{}", unique())
    }

    /// Renames a file of the output folder over another and syncs the folder.
    pub fn rename_into_place(&self, from: &str, to: &str) -> Result<(), OutputError> {
        rustix::fs::renameat(&self.dir, from, &self.dir, to)
            .map_err(|e| self.io("rename into place", to, e.into()))?;
        self.sync()
    }

    /// Opens a customer's folder without following links; `None` when it does not exist.
    fn open_customer(&self, id: &str) -> Result<Option<OwnedFd>, OutputError> {
        check_name(id, &self.path)?;
        match rustix::fs::statat(&self.dir, id, AtFlags::SYMLINK_NOFOLLOW) {
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(e) => return Err(self.io("read", id, e.into())),
            Ok(st) => match FileType::from_raw_mode(st.st_mode) {
                FileType::Directory => {}
                FileType::Symlink => {
                    return Err(OutputError::Symlink {
                        path: self.path.join(id),
                    });
                }
                _ => {
                    return Err(OutputError::NotFolder {
                        path: self.path.join(id),
                    });
                }
            },
        }
        let fd = rustix::fs::openat(
            &self.dir,
            id,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => OutputError::Symlink {
                path: self.path.join(id),
            },
            e => self.io("open", id, e.into()),
        })?;
        Ok(Some(fd))
    }

    /// A customer folder's entries, refusing links anywhere in it; `None` when missing.
    pub fn list(&self, id: &str) -> Result<Option<Listing>, OutputError> {
        let Some(fd) = self.open_customer(id)? else {
            return Ok(None);
        };
        let path = self.path.join(id);
        list_dir(&fd, &path).map(Some)
    }

    /// Reads a file of a customer's folder without following links; `None` when missing.
    pub fn read(&self, id: &str, name: &str) -> Result<Option<Vec<u8>>, OutputError> {
        let Some(dir) = self.open_customer(id)? else {
            return Ok(None);
        };
        check_name(name, &self.path.join(id))?;
        let path = self.path.join(id).join(name);
        let fd = match rustix::fs::openat(
            &dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(rustix::io::Errno::LOOP) => return Err(OutputError::Symlink { path }),
            Err(e) => {
                return Err(OutputError::Io {
                    action: "read",
                    path,
                    source: e.into(),
                });
            }
        };
        let mut bytes = Vec::new();
        File::from(fd)
            .read_to_end(&mut bytes)
            .map_err(|source| OutputError::Io {
                action: "read",
                path,
                source,
            })?;
        Ok(Some(bytes))
    }

    /// Stages a customer's new folder: every entry of the current folder that `keep`
    /// accepts is hard-linked (folders copied as folders of links), then `files` are
    /// written. With [`Durability::Now`] each file and the staging folder are fsynced
    /// here; with [`Durability::Later`] the caller makes them durable with
    /// [`OutDir::sync_all_staged`] before it switches the folder in.
    pub fn stage(
        &self,
        id: &str,
        keep: impl Fn(&str) -> bool,
        files: &[(String, &[u8])],
        durability: Durability,
    ) -> Result<Staged, OutputError> {
        let now = durability == Durability::Now;
        check_name(id, &self.path)?;
        let name = format!(".{id}{STAGING}{}", unique());
        let staged = Staged {
            customer: id.to_string(),
            name: name.clone(),
        };
        let result = (|| {
            rustix::fs::mkdirat(&self.dir, name.as_str(), Mode::from_raw_mode(0o755))
                .map_err(|e| self.io("create", &name, e.into()))?;
            let stage = open_dir(&self.dir, &name, &self.path)?;
            if let Some(current) = self.open_customer(id)? {
                let current_path = self.path.join(id);
                for (entry, is_dir) in list_dir(&current, &current_path)? {
                    if !keep(&entry) {
                        continue;
                    }
                    if is_dir {
                        link_tree(&current, &stage, &entry, &current_path)?;
                    } else {
                        link_file(&current, &stage, &entry, &current_path)?;
                    }
                }
            }
            for (file, bytes) in files {
                check_name(file, &self.path.join(id))?;
                let fd = rustix::fs::openat(
                    &stage,
                    file.as_str(),
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o644),
                )
                .map_err(|e| self.io("create", file, e.into()))?;
                let mut f = File::from(fd);
                f.write_all(bytes)
                    .and_then(|()| if now { f.sync_all() } else { Ok(()) })
                    .map_err(|e| self.io("write", file, e))?;
            }
            if now {
                rustix::fs::fsync(&stage).map_err(|e| self.io("sync", &name, e.into()))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(staged),
            Err(e) => {
                let _ = self.remove_staging(&name);
                Err(e)
            }
        }
    }

    /// Switches a staged folder in: exchanged with the current one, or renamed into place.
    /// The output folder itself is synced by [`OutDir::sync`], once per group of switches.
    pub fn switch(&self, staged: &Staged) -> Result<Switched, OutputError> {
        let id = staged.customer.as_str();
        let replaced = self.open_customer(id)?.is_some();
        self.exchange(&staged.name, id, replaced)
            .map_err(|e| self.io("switch in", id, e.into()))?;
        Ok(Switched {
            customer: id.to_string(),
            staging: staged.name.clone(),
            replaced,
        })
    }

    /// Undoes a switch: the old folder back in place (or none), the new one under the
    /// staging name again.
    pub fn unswitch(&self, switched: &Switched) -> Result<(), OutputError> {
        let id = switched.customer.as_str();
        let done = if switched.replaced {
            self.exchange(&switched.staging, id, true)
        } else {
            self.exchange(id, &switched.staging, false)
        };
        done.map_err(|e| self.io("switch back", id, e.into()))
    }

    /// Renames `from` to `to` in the output folder: an atomic exchange when `to` exists,
    /// else a rename that never replaces anything.
    fn exchange(&self, from: &str, to: &str, exists: bool) -> rustix::io::Result<()> {
        let flags = if exists {
            RenameFlags::EXCHANGE
        } else {
            RenameFlags::NOREPLACE
        };
        rustix::fs::renameat_with(&self.dir, from, &self.dir, to, flags)
    }

    /// Makes everything staged with [`Durability::Later`] durable: one `syncfs` of the
    /// file system that holds the output folder, instead of an fsync per file. It also
    /// flushes other programs' writes to that file system, which is the price of waiting
    /// on the disk once per group of customers rather than five times per customer.
    pub fn sync_all_staged(&self) -> Result<(), OutputError> {
        rustix::fs::syncfs(&self.dir).map_err(|e| self.io("sync", "", e.into()))
    }

    /// Makes the switches so far durable: fsyncs the output folder.
    pub fn sync(&self) -> Result<(), OutputError> {
        rustix::fs::fsync(&self.dir).map_err(|e| self.io("sync", "", e.into()))
    }

    /// Removes a staging folder (a set not switched in, or an old copy switched out).
    pub fn remove_staging(&self, name: &str) -> Result<(), OutputError> {
        if !is_staging(name) {
            return Err(OutputError::BadName {
                name: name.to_string(),
                dir: self.path.clone(),
            });
        }
        match remove_tree(&self.dir, name, &self.path) {
            Err(OutputError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Ok(())
            }
            other => other,
        }
    }

    /// Names of staging folders and temp files left in the output folder by writers that
    /// stopped. Only the lock holder calls this, so none of them belongs to a live writer.
    pub fn leftovers(&self) -> Result<Vec<String>, OutputError> {
        let mut out: Vec<String> = names(&self.dir, &self.path)?
            .into_iter()
            .filter(|name| is_staging(name) || (name.starts_with('.') && name.contains(TEMP)))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Removes a leftover from [`OutDir::leftovers`].
    pub fn remove_leftover(&self, name: &str) -> Result<(), OutputError> {
        if is_staging(name) {
            self.remove_staging(name)
        } else if name.starts_with('.') && name.contains(TEMP) {
            rustix::fs::unlinkat(&self.dir, name, AtFlags::empty())
                .map_err(|e| self.io("remove", name, e.into()))
        } else {
            Err(OutputError::BadName {
                name: name.to_string(),
                dir: self.path.clone(),
            })
        }
    }
}

/// Whether a name is one of this module's staging folders.
fn is_staging(name: &str) -> bool {
    name.starts_with('.') && name.contains(STAGING) && !name.contains('/')
}

fn open_dir(parent: &OwnedFd, name: &str, parent_path: &Path) -> Result<OwnedFd, OutputError> {
    rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => OutputError::Symlink {
            path: parent_path.join(name),
        },
        e => OutputError::Io {
            action: "open",
            path: parent_path.join(name),
            source: e.into(),
        },
    })
}

/// The names in a folder, whatever they are.
fn names(dir: &OwnedFd, path: &Path) -> Result<Vec<String>, OutputError> {
    let io = |source: io::Error| OutputError::Io {
        action: "list",
        path: path.to_path_buf(),
        source,
    };
    let dup = rustix::io::fcntl_dupfd_cloexec(dir, 0).map_err(|e| io(e.into()))?;
    let entries = rustix::fs::Dir::read_from(&dup).map_err(|e| io(e.into()))?;
    let mut out = Vec::new();
    for entry in entries {
        let name = entry
            .map_err(|e| io(e.into()))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name != "." && name != ".." {
            out.push(name);
        }
    }
    Ok(out)
}

/// The entries of a folder (name, is a folder); a link or special file is an error.
fn list_dir(dir: &OwnedFd, path: &Path) -> Result<Listing, OutputError> {
    let io = |source: io::Error| OutputError::Io {
        action: "list",
        path: path.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for name in names(dir, path)? {
        let st = rustix::fs::statat(dir.as_fd(), name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| io(e.into()))?;
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => out.push((name, false)),
            FileType::Directory => out.push((name, true)),
            FileType::Symlink => {
                return Err(OutputError::Symlink {
                    path: path.join(name),
                });
            }
            _ => {
                return Err(OutputError::Io {
                    action: "copy",
                    path: path.join(name),
                    source: io::Error::other("not a regular file or folder"),
                });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Hard-links a file from one folder to another (copies it where links are not possible).
fn link_file(
    from: &OwnedFd,
    to: &OwnedFd,
    name: &str,
    from_path: &Path,
) -> Result<(), OutputError> {
    let io = |source: io::Error| OutputError::Io {
        action: "link",
        path: from_path.join(name),
        source,
    };
    match rustix::fs::linkat(from, name, to, name, AtFlags::empty()) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::PERM | rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::MLINK) => {
            let src = rustix::fs::openat(
                from,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io(e.into()))?;
            let dst = rustix::fs::openat(
                to,
                name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            )
            .map_err(|e| io(e.into()))?;
            let (mut src, mut dst) = (File::from(src), File::from(dst));
            io::copy(&mut src, &mut dst)
                .and_then(|_| dst.sync_all())
                .map_err(io)
        }
        Err(e) => Err(io(e.into())),
    }
}

/// Copies a folder as a folder of hard links.
fn link_tree(
    from: &OwnedFd,
    to: &OwnedFd,
    name: &str,
    from_path: &Path,
) -> Result<(), OutputError> {
    let src = open_dir(from, name, from_path)?;
    rustix::fs::mkdirat(to, name, Mode::from_raw_mode(0o755)).map_err(|e| OutputError::Io {
        action: "create",
        path: from_path.join(name),
        source: e.into(),
    })?;
    let dst = open_dir(to, name, from_path)?;
    let src_path = from_path.join(name);
    for (entry, is_dir) in list_dir(&src, &src_path)? {
        if is_dir {
            link_tree(&src, &dst, &entry, &src_path)?;
        } else {
            link_file(&src, &dst, &entry, &src_path)?;
        }
    }
    rustix::fs::fsync(&dst).map_err(|e| OutputError::Io {
        action: "sync",
        path: src_path,
        source: e.into(),
    })
}

/// Removes a folder and everything in it, never following a link (a link is removed).
fn remove_tree(parent: &OwnedFd, name: &str, parent_path: &Path) -> Result<(), OutputError> {
    let path = parent_path.join(name);
    let io = |action, source: io::Error| OutputError::Io {
        action,
        path: path.clone(),
        source,
    };
    let dir = match rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(dir) => dir,
        Err(rustix::io::Errno::NOENT) => return Err(io("remove", io::ErrorKind::NotFound.into())),
        Err(e) => return Err(io("remove", e.into())),
    };
    for entry in names(&dir, &path)? {
        let st = rustix::fs::statat(&dir, entry.as_str(), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| io("remove", e.into()))?;
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            remove_tree(&dir, &entry, &path)?;
        } else {
            rustix::fs::unlinkat(&dir, entry.as_str(), AtFlags::empty())
                .map_err(|e| io("remove", e.into()))?;
        }
    }
    rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR).map_err(|e| io("remove", e.into()))
}

/// Refuses anything but a single plain file name (no separators, `..`, leading dot).
pub fn check_name(name: &str, dir: &Path) -> Result<(), OutputError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name != ".."
        && name.len() <= 255;
    if ok {
        Ok(())
    } else {
        Err(OutputError::BadName {
            name: printable_line(name),
            dir: dir.to_path_buf(),
        })
    }
}

/// Text made safe to print on one line: control and invisible characters escaped.
pub(crate) fn printable_line(text: &str) -> String {
    crate::untrusted::escape(text).into_owned()
}

/// `dir` joined with `name`, which must be a single plain file name (see [`check_name`]).
pub fn child(dir: &Path, name: &str) -> Result<PathBuf, OutputError> {
    check_name(name, dir)?;
    Ok(dir.join(name))
}

/// Writes `bytes` to `path` atomically: a temp file with a name of its own in the same
/// folder, fsync, rename. For single files outside the output folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}{TEMP}{}", unique()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A lowercase ASCII slug, words joined by `-`: "Customer.io" -> "customer-io"; `fallback`
/// when nothing ASCII-alphanumeric is left.
pub fn slug(name: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        fallback.to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pdf");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(slug("SegMetrics, Inc.", "vendor"), "segmetrics-inc");
        assert_eq!(slug("Postgres.ai", "vendor"), "postgres-ai");
        assert_eq!(slug("Caplena AG", "vendor"), "caplena-ag");
        assert_eq!(slug("../../etc", "vendor"), "etc");
        assert_eq!(slug("Ωмега", "vendor"), "vendor");
    }

    #[test]
    fn names_that_could_leave_the_folder_are_refused() {
        let dir = Path::new("/out");
        assert!(check_name("acme", dir).is_ok());
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", ".hidden", "/abs", "a\0b",
        ] {
            assert!(check_name(bad, dir).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_staged_folder_replaces_the_old_one_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let out = OutDir::lock(&tmp.path().join("out"), Wait::No, || {}).unwrap();
        let first = out
            .stage(
                "acme",
                |_| true,
                &[("a.pdf".into(), b"one"), ("b.txt".into(), b"keep")],
                Durability::Now,
            )
            .unwrap();
        let s = out.switch(&first).unwrap();
        assert!(!s.replaced);
        assert_eq!(out.read("acme", "a.pdf").unwrap().unwrap(), b"one");
        let second = out
            .stage(
                "acme",
                |n| n != "a.pdf",
                &[("a.pdf".into(), b"two")],
                Durability::Later,
            )
            .unwrap();
        out.sync_all_staged().unwrap();
        let s = out.switch(&second).unwrap();
        assert!(s.replaced);
        assert_eq!(out.read("acme", "a.pdf").unwrap().unwrap(), b"two");
        assert_eq!(out.read("acme", "b.txt").unwrap().unwrap(), b"keep");
        // The old copy is under the staging name until removed.
        assert_eq!(out.leftovers().unwrap(), vec![s.staging.clone()]);
        out.unswitch(&s).unwrap();
        assert_eq!(out.read("acme", "a.pdf").unwrap().unwrap(), b"one");
        out.switch(&second).unwrap();
        out.remove_staging(&s.staging).unwrap();
        assert!(out.leftovers().unwrap().is_empty());
    }

    #[test]
    fn a_second_writer_waits_or_fails_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let first = OutDir::lock(tmp.path(), Wait::No, || {}).unwrap();
        let mut told = false;
        let second = OutDir::lock(tmp.path(), Wait::No, || told = true);
        assert!(matches!(second, Err(OutputError::Busy { .. })) && told);
        let path = tmp.path().to_path_buf();
        let waiter = std::thread::spawn(move || OutDir::lock(&path, Wait::Block, || {}).is_ok());
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(first);
        assert!(waiter.join().unwrap());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "no lock file");
    }

    #[test]
    fn links_in_the_output_folder_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let out = OutDir::lock(&tmp.path().join("out"), Wait::No, || {}).unwrap();
        std::os::unix::fs::symlink(&outside, out.path().join("acme")).unwrap();
        assert!(matches!(out.list("acme"), Err(OutputError::Symlink { .. })));
        assert!(matches!(
            out.stage("acme", |_| true, &[("a".into(), b"x")], Durability::Now),
            Err(OutputError::Symlink { .. })
        ));
        fs::remove_file(out.path().join("acme")).unwrap();
        fs::create_dir(out.path().join("acme")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", out.path().join("acme/x.pdf")).unwrap();
        assert!(matches!(
            out.read("acme", "x.pdf"),
            Err(OutputError::Symlink { .. })
        ));
        assert!(matches!(out.list("acme"), Err(OutputError::Symlink { .. })));
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        assert!(
            out.leftovers().unwrap().is_empty(),
            "the failed stage is removed"
        );
    }
}
