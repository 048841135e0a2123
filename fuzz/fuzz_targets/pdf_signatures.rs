//! Fuzzes the embedded-signature reader: PDF revisions, signature dictionaries, byte
//! ranges, the object-by-object comparison of revisions, and CMS decoding. Besides "no
//! panic", it checks that a signature judged valid covers bytes that are really in the
//! input (its ranges lie inside it) and that no fuzzed CMS verifies over other content.
#![no_main]

use dpa::sign::cms;
use dpa::sign::pdfsig;
use dpa::sign::pkix::TrustAnchors;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let verdict = pdfsig::verify(data, &TrustAnchors::default());
    for s in &verdict.signatures {
        if let Some([(a, b), (c, d)]) = s.signature.ranges {
            assert!(a <= b && b <= c && c <= d && d <= data.len());
        }
    }
    // The same bytes as a bare CMS signature over a fixed content.
    let v = cms::verify(data, &[b"fixed content the fuzzer cannot have signed"]);
    assert!(!v.intact());
});
