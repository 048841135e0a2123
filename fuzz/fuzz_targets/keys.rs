//! Fuzzes the key parsers: SPKI PEM and minisign public keys (file and bare line), the
//! minisign public-key decoder and PKCS#8 PEM secret keys. A key that parses must print
//! back to forms that parse to the same key.
#![no_main]

use dpa::sign::{PublicKey, SecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = PublicKey::parse(text) {
        let again = PublicKey::parse(&key.to_minisign_file()).expect("minisign form parses");
        assert_eq!(again.to_bytes(), key.to_bytes());
        let pem = key.to_spki_pem().expect("SPKI PEM encodes");
        let again = PublicKey::parse(&pem).expect("SPKI PEM parses");
        assert_eq!(again.to_bytes(), key.to_bytes());
        let _ = key.allowed_signers_line("fuzz@example.com");
    }
    let _ = dpa::sign::minisign::parse_public_key(text);
    if let Ok(secret) = SecretKey::parse_pem(text, "fuzz") {
        // Signing with any key that parsed must work.
        let _ = dpa::sign::minisign::sign(&secret, b"x", "dpa/1");
    }
});
