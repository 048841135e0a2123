//! The output folder as a database (issue 17): links, crashes, concurrent writers, a full
//! disk, a tampered register, damaged files, one fingerprint per annex label.
//!
//! Each test runs the real `dpa` binary outside the repository and checks what an
//! operator would find afterwards: which files are in the customer's folder, whether
//! `dpa verify` accepts them, what the register lists and whether `dpa register verify`
//! says the chain is intact. The fault injections use strace (`-e inject=`), which the
//! project machine and CI have.
#![cfg(target_os = "linux")]

mod batch_common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use dpa::sign::PublicKey;

use batch_common::{batch, dpa_in, register_rows, repo, vendor_args, write_csv};

const DPA: &str = "segmetrics-inc-dpa-2026-05-26.pdf";
const MUELLER: &str = "fixtures/customers/mueller-soehne.toml";

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `dpa generate` for a customer file into `out`, with the SegMetrics inputs.
fn generate(cwd: &Path, customer: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = dpa_in(cwd);
    cmd.arg("generate")
        .arg("--customer")
        .arg(customer)
        .arg("--out")
        .arg(out)
        .arg("--annex")
        .arg(repo("fixtures/segmetrics/annex.toml"))
        .args(vendor_args())
        .args(["--issue-date", "2026-06-01"])
        .args(extra);
    cmd
}

/// A copy of the Müller customer with another address (so its DPA has other bytes).
fn moved_mueller(dir: &Path) -> PathBuf {
    let text = fs::read_to_string(repo(MUELLER)).unwrap();
    let moved = text.replace("Königstraße 12", "Königstraße 14");
    assert_ne!(text, moved);
    let path = dir.join("mueller-moved.toml");
    fs::write(&path, moved).unwrap();
    path
}

fn demo_key() -> PublicKey {
    PublicKey::load(&repo("fixtures/keys/demo-only.minisign.pub")).unwrap()
}

/// Whether the PDF at `pdf` verifies with its three signature files under the demo key.
fn verifies(pdf: &Path) -> Result<(), String> {
    let verdict = batch_common::verdict_of(pdf, &demo_key())?;
    if verdict.valid {
        Ok(())
    } else {
        Err(format!("{}: {:?}", pdf.display(), verdict.reasons))
    }
}

/// The names in a folder, sorted (hidden ones too).
fn names(dir: &Path) -> BTreeSet<String> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), fs::read(&path).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// `dpa register verify --out OUT`.
fn register_verify(cwd: &Path, out: &Path) -> Output {
    dpa_in(cwd)
        .args(["register", "verify", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn a_symlinked_customer_folder_is_refused_and_nothing_outside_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(&out).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    // What an attacker (or a mistaken admin) left there: a partial-looking file and a
    // folder that the link points at.
    fs::write(elsewhere.join(format!(".{DPA}.partial")), b"not ours").unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("mueller-soehne")).unwrap();
    let before = snapshot(&elsewhere);

    let run = generate(dir.path(), &repo(MUELLER), &out, &[])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("is a symbolic link"), "{}", text(&run));
    assert_eq!(
        snapshot(&elsewhere),
        before,
        "generate wrote or deleted outside OUT"
    );

    // A batch reports the customer and goes on; still nothing outside.
    let csv = dir.path().join("c.csv");
    let line = fs::read_to_string(repo("fixtures/batch/customers.csv")).unwrap();
    fs::write(&csv, line).unwrap();
    let run = batch(dir.path(), &csv, &out, &[]).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(
        text(&run).contains("failed: mueller-soehne:") && text(&run).contains("symbolic link"),
        "{}",
        text(&run)
    );
    assert_eq!(
        snapshot(&elsewhere),
        before,
        "batch wrote or deleted outside OUT"
    );
    // The other customers were issued.
    assert!(out.join("lodz-zaklady").join(DPA).is_file());

    // A link inside a customer's folder is refused as well.
    let run = generate(
        dir.path(),
        &repo("fixtures/customers/lodz-zaklady.toml"),
        &out,
        &["--force"],
    )
    .output()
    .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let pdf = out.join("lodz-zaklady").join(DPA);
    fs::remove_file(&pdf).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("target.pdf"), &pdf).unwrap();
    let run = generate(
        dir.path(),
        &repo("fixtures/customers/lodz-zaklady.toml"),
        &out,
        &["--force"],
    )
    .output()
    .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(!elsewhere.join("target.pdf").exists());
}

/// The state of Müller's folder after an interrupted `--force` replacement.
fn old_or_new(folder: &Path, old: &[u8], new: &[u8]) -> &'static str {
    let pdf = fs::read(folder.join(DPA)).expect("the PDF is there");
    let state = if pdf == old {
        "old"
    } else if pdf == new {
        "new"
    } else {
        panic!("the PDF is neither the old nor the new document");
    };
    if let Err(e) = verifies(&folder.join(DPA)) {
        panic!("{state} PDF does not verify with the signatures beside it: {e}");
    }
    // No stray file of the other set.
    let extra: Vec<String> = names(folder)
        .into_iter()
        .filter(|n| !n.starts_with(DPA))
        .collect();
    assert!(extra.is_empty(), "{extra:?}");
    state
}

#[test]
fn sigkill_at_every_rename_and_register_write_of_a_forced_replacement_leaves_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ok = generate(dir.path(), &repo(MUELLER), &out, &[])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", text(&ok));
    let folder = out.join("mueller-soehne");
    let old = fs::read(folder.join(DPA)).unwrap();
    let moved = moved_mueller(dir.path());
    // The new document's bytes, made once in a scratch folder.
    let scratch = dir.path().join("scratch");
    let made = generate(dir.path(), &moved, &scratch, &[])
        .output()
        .unwrap();
    assert!(made.status.success());
    let new = fs::read(scratch.join("mueller-soehne").join(DPA)).unwrap();
    assert_ne!(old, new);
    let bin = assert_cmd::cargo::cargo_bin("dpa");

    let mut kills = 0;
    let mut seen: Vec<String> = Vec::new();
    // Every rename (the switch, the register's own files) and every register write.
    for syscall in [
        "renameat2",
        "rename",
        "renameat",
        "pwrite64",
        "write",
        "fsync",
        "fdatasync",
        "unlink",
        "unlinkat",
    ] {
        for n in 1.. {
            let work = dir.path().join(format!("k-{syscall}-{n}"));
            // Each step starts from the old document, issued and registered.
            let copy = Command::new("cp")
                .arg("-a")
                .arg(&out)
                .arg(&work)
                .status()
                .unwrap();
            assert!(copy.success());
            let run = Command::new("strace")
                .args(["-f", "-qq", "-o", "/dev/null", "-e"])
                .arg(format!("inject={syscall}:signal=SIGKILL:when={n}"))
                .arg(&bin)
                .arg("generate")
                .arg("--customer")
                .arg(&moved)
                .arg("--out")
                .arg(&work)
                .arg("--annex")
                .arg(repo("fixtures/segmetrics/annex.toml"))
                .args(vendor_args())
                .args(["--issue-date", "2026-06-01", "--force"])
                .env_remove("SOURCE_DATE_EPOCH")
                .env_remove("DPA_SIGNING_KEY")
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            let killed = !run.success();
            let state = old_or_new(&work.join("mueller-soehne"), &old, &new);
            if killed {
                seen.push(format!("{syscall}#{n}:{state}"));
            }
            // The next writer completes or undoes what was interrupted; the register then
            // lists exactly what is on disk, and its chain is intact.
            let rerun = generate(dir.path(), &moved, &work, &["--force"])
                .output()
                .unwrap();
            assert!(
                rerun.status.success(),
                "{syscall} #{n} ({state}): {}",
                text(&rerun)
            );
            assert_eq!(old_or_new(&work.join("mueller-soehne"), &old, &new), "new");
            let verified = register_verify(dir.path(), &work);
            assert!(
                verified.status.success(),
                "{syscall} #{n}: {}",
                text(&verified)
            );
            let rows = register_rows(dir.path(), &work, &[]);
            let last = rows.last().unwrap();
            assert_eq!(
                last["pdf_sha256"],
                dpa::sign::sha256_hex(&new),
                "{syscall} #{n}"
            );
            let hidden: Vec<String> = names(&work)
                .into_iter()
                .filter(|n| n.starts_with('.'))
                .collect();
            assert!(hidden.is_empty(), "{syscall} #{n}: left {hidden:?}");
            fs::remove_dir_all(&work).unwrap();
            if !killed {
                break;
            }
            kills += 1;
            assert!(n < 500, "{syscall}: still killed at call {n}");
        }
    }
    eprintln!("{kills} kills: {}", seen.join(" "));
    assert!(kills > 20, "only {kills} kills were injected");
    assert!(seen.iter().any(|s| s.ends_with(":old")) && seen.iter().any(|s| s.ends_with(":new")));
}

#[test]
fn two_batches_of_500_on_one_folder_give_500_documents_and_500_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path(), "customers.csv", 500);
    let out = dir.path().join("out");
    let spawn = || {
        batch(
            dir.path(),
            &csv,
            &out,
            &["--issue-date", "2026-06-01", "--jobs", "2"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    // One of them waited for the other, said so, and then found everything issued.
    let both = format!("{}{}", text(&a), text(&b));
    assert!(both.contains("waiting for another dpa"), "{both}");
    assert!(
        both.contains("500 customers: 500 issued (500 documents)"),
        "{both}"
    );
    assert!(
        both.contains("500 customers: 0 issued (0 documents), 500 unchanged"),
        "{both}"
    );
    let rows = register_rows(dir.path(), &out, &[]);
    assert_eq!(rows.len(), 500);
    let ids: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 500);
    for i in 1..=500 {
        verifies(&out.join(format!("customer-{i:05}")).join(DPA)).unwrap();
    }
    assert!(register_verify(dir.path(), &out).status.success());
    assert!(
        names(&out).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        names(&out)
    );
}

/// A small tmpfs mounted for a test (the test runs as root, as CI does), unmounted after.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Tmpfs {
        fs::create_dir_all(path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "this test mounts a tmpfs, which needs root"
        );
        Tmpfs(path.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_in_a_batch_leaves_only_registered_documents_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path(), "customers.csv", 120);
    let disk = Tmpfs::mount(&dir.path().join("disk"), "2m");
    let out = disk.0.join("out");
    let run = batch(dir.path(), &csv, &out, &["--issue-date", "2026-06-01"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    let said = text(&run);
    assert!(
        said.contains("No space left on device") || said.contains("database or disk is full"),
        "{said}"
    );
    // Every document on disk is in the register and verifies.
    let on_disk: BTreeSet<String> = names(&out)
        .into_iter()
        .filter(|n| n.starts_with("customer-") && out.join(n).join(DPA).exists())
        .collect();
    assert!(
        !on_disk.is_empty() && on_disk.len() < 120,
        "{}",
        on_disk.len()
    );
    let rows = register_rows(dir.path(), &out, &[]);
    let registered: BTreeSet<String> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(on_disk, registered);
    for id in &on_disk {
        verifies(&out.join(id).join(DPA)).unwrap();
    }
    // With space again, a rerun completes.
    disk.resize("64m");
    let rerun = batch(dir.path(), &csv, &out, &["--issue-date", "2026-06-01"])
        .output()
        .unwrap();
    assert!(rerun.status.success(), "{}", text(&rerun));
    assert_eq!(register_rows(dir.path(), &out, &[]).len(), 120);
    for i in 1..=120 {
        verifies(&out.join(format!("customer-{i:05}")).join(DPA)).unwrap();
    }
    assert!(
        names(&out).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        names(&out)
    );
}

/// A folder with three issued DPAs.
fn issued_folder(dir: &Path) -> PathBuf {
    let out = dir.join("out");
    let run = batch(
        dir,
        &repo("fixtures/batch/customers.csv"),
        &out,
        &["--issue-date", "2026-06-01"],
    )
    .output()
    .unwrap();
    assert!(run.status.success(), "{}", text(&run));
    out
}

/// The statement that made a schema object, as stored (to put it back exactly).
fn definition(db: &Path, name: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(format!(
            "SELECT sql FROM sqlite_master WHERE name = '{name}';"
        ))
        .output()
        .unwrap();
    let sql = String::from_utf8(out.stdout).unwrap();
    assert!(sql.starts_with("CREATE TRIGGER"), "{sql}");
    format!("{};", sql.trim_end())
}

fn sqlite(db: &Path, sql: &str) {
    let status = Command::new("sqlite3").arg(db).arg(sql).status().unwrap();
    assert!(status.success(), "{sql}");
}

/// Every command that reads or writes the register refuses it, saying why.
fn refused_everywhere(dir: &Path, out: &Path, why: &str) {
    let runs = [
        (
            "register list",
            dpa_in(dir)
                .args(["register", "list", "--out"])
                .arg(out)
                .output()
                .unwrap(),
        ),
        (
            "register show",
            dpa_in(dir)
                .args(["register", "show", "1", "--out"])
                .arg(out)
                .output()
                .unwrap(),
        ),
        (
            "generate",
            generate(dir, &repo(MUELLER), out, &[]).output().unwrap(),
        ),
        (
            "batch",
            batch(dir, &repo("fixtures/batch/customers.csv"), out, &[])
                .output()
                .unwrap(),
        ),
    ];
    for (what, run) in runs {
        assert_eq!(run.status.code(), Some(2), "{what}: {}", text(&run));
        assert!(text(&run).contains(why), "{what}: {}", text(&run));
    }
    let verified = register_verify(dir, out);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    assert!(text(&verified).contains(why), "{}", text(&verified));
}

#[test]
fn an_edited_truncated_or_trigger_less_register_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = issued_folder(dir.path());
    let db = out.join("register.sqlite");
    let good = fs::read(&db).unwrap();
    assert!(register_verify(dir.path(), &out).status.success());

    // Triggers dropped (and left dropped).
    sqlite(&db, "DROP TRIGGER issued_no_update;");
    refused_everywhere(dir.path(), &out, "issued_no_update");
    // Nothing re-created them behind the user's back.
    let schema = Command::new("sqlite3")
        .arg(&db)
        .arg(".schema")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&schema.stdout).contains("issued_no_update"));

    // A row edited with the triggers dropped and put back exactly.
    fs::write(&db, &good).unwrap();
    let trigger = definition(&db, "issued_no_update");
    sqlite(
        &db,
        &format!(
            "DROP TRIGGER issued_no_update; \
             UPDATE issued SET annex_version = '2026-01-01' WHERE seq = 2; {trigger}"
        ),
    );
    refused_everywhere(dir.path(), &out, "row 2 was edited");

    // Truncated to half, and emptied.
    fs::write(&db, &good[..good.len() / 2]).unwrap();
    refused_everywhere(dir.path(), &out, "damaged");
    fs::write(&db, b"").unwrap();
    refused_everywhere(dir.path(), &out, "emptied or truncated");

    // Made by a newer dpa.
    fs::write(&db, &good).unwrap();
    sqlite(&db, "PRAGMA user_version = 4;");
    let run = dpa_in(dir.path())
        .args(["register", "list", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run).contains("made by a newer dpa"), "{}", text(&run));
}

#[test]
fn register_verify_detects_a_deleted_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = issued_folder(dir.path());
    let db = out.join("register.sqlite");
    let good = fs::read(&db).unwrap();
    for (seq, why) in [
        (2, "a row between them was removed"),
        (4, "rows after row 3 were removed"),
    ] {
        fs::write(&db, &good).unwrap();
        let (t1, t2) = (
            definition(&db, "issued_no_delete"),
            definition(&db, "chain_no_delete"),
        );
        sqlite(
            &db,
            &format!(
                "DROP TRIGGER issued_no_delete; DROP TRIGGER chain_no_delete; \
                 DELETE FROM issued WHERE seq = {seq}; DELETE FROM chain WHERE seq = {seq}; \
                 {t1} {t2}"
            ),
        );
        let run = register_verify(dir.path(), &out);
        assert_eq!(run.status.code(), Some(1), "{}", text(&run));
        assert!(text(&run).contains(why), "{}", text(&run));
    }
}

#[test]
fn read_only_commands_need_no_write_access_to_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = issued_folder(dir.path());
    // Another user, who may read but not write the folder.
    for path in [dir.path(), &out] {
        Command::new("chmod").arg("755").arg(path).status().unwrap();
    }
    Command::new("chmod")
        .arg("644")
        .arg(out.join("register.sqlite"))
        .status()
        .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("dpa");
    let mut parent = bin.parent();
    while let Some(p) = parent {
        Command::new("chmod").arg("o+rx").arg(p).status().unwrap();
        parent = p.parent();
    }
    let before = names(&out);
    for args in [
        &["register", "list"][..],
        &["register", "verify"],
        &["register", "show", "1"],
    ] {
        let run = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .arg("--out")
            .arg(&out)
            .current_dir("/")
            .output()
            .unwrap();
        assert!(run.status.success(), "{args:?}: {}", text(&run));
    }
    assert_eq!(names(&out), before, "a reader created files");
}

#[test]
fn a_deleted_signature_or_a_garbage_pdf_is_repaired_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = issued_folder(dir.path());
    let folder = out.join("mueller-soehne");
    let pdf = folder.join(DPA);
    let good = fs::read(&pdf).unwrap();
    let minisig = folder.join(format!("{DPA}.minisig"));
    let good_sig = fs::read(&minisig).unwrap();

    // generate: a deleted .minisig is restored, without --force, and said so.
    fs::remove_file(&minisig).unwrap();
    let run = generate(dir.path(), &repo(MUELLER), &out, &[])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        text(&run).contains(&format!("repaired: {DPA}.minisig restored")),
        "{}",
        text(&run)
    );
    assert_eq!(fs::read(&minisig).unwrap(), good_sig);

    // batch: a PDF replaced by garbage is restored byte for byte; no new row.
    let rows = register_rows(dir.path(), &out, &[]).len();
    fs::write(&pdf, b"garbage").unwrap();
    let run = batch(dir.path(), &repo("fixtures/batch/customers.csv"), &out, &[])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        text(&run).contains(&format!("repaired: mueller-soehne: {DPA} restored")),
        "{}",
        text(&run)
    );
    assert!(text(&run).contains("1 repaired"), "{}", text(&run));
    assert_eq!(fs::read(&pdf).unwrap(), good);
    assert_eq!(register_rows(dir.path(), &out, &[]).len(), rows);

    // --force repairs too.
    fs::write(&pdf, b"garbage").unwrap();
    let run = generate(dir.path(), &repo(MUELLER), &out, &["--force"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(fs::read(&pdf).unwrap(), good);
    verifies(&pdf).unwrap();
}

#[test]
fn one_annex_label_has_one_fingerprint_per_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = issued_folder(dir.path());
    // The same version label, another provider.
    let text_of = fs::read_to_string(repo("fixtures/segmetrics/annex.toml")).unwrap();
    let changed = text_of.replacen("function = \"", "function = \"Changed: ", 1);
    assert_ne!(changed, text_of);
    let annex = dir.path().join("annex-same-label.toml");
    fs::write(&annex, changed).unwrap();
    let before = snapshot(&out);
    let run = dpa_in(dir.path())
        .arg("generate")
        .arg("--customer")
        .arg(repo("fixtures/customers/acme-widgets-us.toml"))
        .arg("--out")
        .arg(&out)
        .arg("--annex")
        .arg(&annex)
        .args(vendor_args())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(
        text(&run).contains(
            "annex version 2026-05-26 was issued from this output folder with other content"
        ),
        "{}",
        text(&run)
    );
    assert_eq!(snapshot(&out), before);
    let run = batch(
        dir.path(),
        &repo("fixtures/batch/customers.csv"),
        &out,
        &["--annex", annex.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    // The table shows each row's fingerprint.
    let list = dpa_in(dir.path())
        .args(["register", "list", "--annex", "2026-05-26", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let fingerprint =
        dpa::annex::fingerprint(&dpa::load::annex(repo("fixtures/segmetrics/annex.toml")).unwrap())
            .hex();
    let shown = String::from_utf8_lossy(&list.stdout);
    assert!(
        shown.contains("ANNEX SHA-256") && shown.contains(&fingerprint[..16]),
        "{shown}"
    );
}

#[test]
fn a_device_as_customer_file_fails_at_once_with_a_true_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = generate(dir.path(), Path::new("/dev/zero"), &out, &[])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let said = text(&run);
    assert!(
        said.contains("/dev/zero") && said.contains("not a regular file"),
        "{said}"
    );
    assert!(!said.contains("no such file"), "{said}");
    let run = dpa_in(dir.path())
        .args(["verify", "/dev/zero", "--pubkey"])
        .arg(repo("fixtures/keys/demo-only.minisign.pub"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run).contains("not a regular file"), "{}", text(&run));
    // A customer file over the size limit is refused before it is read whole.
    let big = dir.path().join("big.toml");
    let mut content = fs::read_to_string(repo(MUELLER)).unwrap();
    content.push_str(&format!("# {}\n", "x".repeat(2 << 20)));
    fs::write(&big, content).unwrap();
    let run = generate(dir.path(), &big, &out, &[]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run).contains("is larger than 1048576 bytes"),
        "{}",
        text(&run)
    );
}

#[test]
fn a_cause_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = dpa_in(dir.path())
        .arg("generate")
        .arg("--customer")
        .arg(repo(MUELLER))
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--vendor")
        .arg(repo("fixtures/segmetrics/vendor.toml"))
        .arg("--annex")
        .arg(repo("fixtures/segmetrics/annex.toml"))
        .arg("--key")
        .arg(repo("fixtures/keys/demo-only.key"))
        .args(["--template", "/nonexistent/dpa.md.hbs"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let said = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        said.matches("No such file or directory").count(),
        1,
        "{said}"
    );
    assert!(
        said.contains("cannot read template /nonexistent/dpa.md.hbs"),
        "{said}"
    );
}
