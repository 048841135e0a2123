fn main() {
    let path = std::env::args().nth(1).unwrap();
    let anchor = std::env::args().nth(2);
    let bytes = std::fs::read(path).unwrap();
    let anchors = match anchor {
        Some(a) => dpa::sign::pkix::TrustAnchors::new(
            dpa::sign::x509::CertChain::load(std::path::Path::new(&a))
                .unwrap()
                .certificates()
                .to_vec(),
        ),
        None => Default::default(),
    };
    let v = dpa::sign::pdfsig::verify(&bytes, &anchors);
    println!("{}", serde_json::to_string_pretty(&v).unwrap());
}
