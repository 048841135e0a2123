//! Writing outputs safely: every file goes to a temp file in its own folder, then is renamed,
//! so a reader (or a killed batch) only ever sees complete files or none.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Suffix of the temp files this module writes; a rerun removes leftovers with it.
const PARTIAL: &str = ".partial";

/// Writes `bytes` to `path` atomically: temp file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = partial_path(path);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The temp file name used for `path`: hidden, beside it, with a fixed suffix.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{PARTIAL}"))
}

/// Removes temp files a killed run left in `dir`; returns how many it removed.
pub fn remove_partials(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(PARTIAL) {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
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

/// Joins a single validated file-name component under `dir`, refusing anything that could
/// leave it (separators, `..`, leading dots, empty names).
pub fn child(dir: &Path, name: &str) -> io::Result<PathBuf> {
    let mut parts = Path::new(name).components();
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && matches!(parts.next(), Some(Component::Normal(_)))
        && parts.next().is_none();
    if ok {
        Ok(dir.join(name))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{name}` is not a plain file name; refusing to write outside {}",
                dir.display()
            ),
        ))
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
    fn leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".a.pdf.partial"), b"half").unwrap();
        fs::write(dir.path().join("a.pdf"), b"whole").unwrap();
        assert_eq!(remove_partials(dir.path()).unwrap(), 1);
        assert!(dir.path().join("a.pdf").exists());
    }

    #[test]
    fn child_refuses_escapes() {
        let dir = Path::new("/out");
        assert_eq!(child(dir, "acme").unwrap(), Path::new("/out/acme"));
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", ".hidden", "/abs", "a\0b",
        ] {
            assert!(child(dir, bad).is_err(), "{bad:?}");
        }
    }
}
