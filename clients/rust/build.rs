//! Generates the client from `openapi/openapi-3.0.json` (progenitor reads OpenAPI 3.0 only).

use std::path::PathBuf;

const SPEC: &str = "../../openapi/openapi-3.0.json";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    let file = std::fs::File::open(SPEC).expect("openapi/openapi-3.0.json is readable");
    let spec: openapiv3::OpenAPI = serde_json::from_reader(file).expect("the spec is OpenAPI 3.0");
    let mut settings = progenitor::GenerationSettings::default();
    settings.with_interface(progenitor::InterfaceStyle::Builder);
    let tokens = progenitor::Generator::new(&settings)
        .generate_tokens(&spec)
        .expect("progenitor generates the client");
    let code = prettyplease::unparse(&syn::parse2(tokens).expect("the generated code parses"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("escalade.rs"), code).expect("OUT_DIR is writable");
}
