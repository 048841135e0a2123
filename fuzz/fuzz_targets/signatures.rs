//! Fuzzes the signature-file parsers and the verifier: `.minisig`, `.sshsig`, `.sha256`
//! bytes and trusted comments. Besides "no panic", it checks two invariants: a parsed
//! trusted comment prints back to text that parses to the same comment, and no fuzzed
//! evidence ever makes the fixed document verify (the fuzzer cannot forge Ed25519).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use dpa::sign::minisign::SignatureFile;
use dpa::sign::sshsig::SshsigFile;
use dpa::sign::{Evidence, PublicKey, TrustedComment};
use libfuzzer_sys::fuzz_target;

/// The demo public key the fixtures sign with (for tests and demos only).
const DEMO_PUB: &str = include_str!("../../fixtures/keys/demo-only.minisign.pub");

fn document() -> &'static PathBuf {
    static DOC: OnceLock<PathBuf> = OnceLock::new();
    DOC.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("dpa-fuzz-sig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("x.pdf");
        std::fs::write(&path, b"%PDF-1.7\n% a document nobody signed\n").expect("write");
        path
    })
}

fn key() -> &'static PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    KEY.get_or_init(|| PublicKey::parse(DEMO_PUB).expect("demo key parses"))
}

fuzz_target!(|data: &[u8]| {
    // Split the input at 0xFF bytes (never in UTF-8) into minisig, sshsig and sha256 parts.
    let mut parts = data.split(|&b| b == 0xFF);
    let minisig = parts.next().unwrap_or_default();
    let sshsig = parts.next();
    let sha256 = parts.next();

    if let Ok(sig) = SignatureFile::parse(minisig) {
        let _ = sig.global_signature_ok(key());
        if let Ok(comment) = TrustedComment::parse(&sig.trusted_comment) {
            let again =
                TrustedComment::parse(&comment.to_string()).expect("printed comment parses");
            assert_eq!(again, comment);
        }
    }
    if let Ok(text) = std::str::from_utf8(minisig) {
        if let Ok(comment) = TrustedComment::parse(text) {
            let again =
                TrustedComment::parse(&comment.to_string()).expect("printed comment parses");
            assert_eq!(again, comment);
        }
    }
    if let Some(bytes) = sshsig {
        if let Ok(sig) = SshsigFile::parse(bytes) {
            let _ = sig.check(key(), &[0u8; 64]);
        }
    }

    let evidence = Evidence {
        minisig: Some(minisig),
        sha256,
        sshsig,
    };
    if let Ok(verdict) = dpa::sign::verify(document(), &evidence, key()) {
        assert!(!verdict.valid, "fuzzed evidence verified: {verdict:?}");
    }
});
