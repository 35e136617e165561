//! Generates the client from `openapi/openapi-3.0.json` (progenitor reads OpenAPI 3.0 only).

use std::path::PathBuf;

use serde_json::Value;

const SPEC: &str = "../../openapi/openapi-3.0.json";

/// Problem documents are JSON, but progenitor types only `application/json` bodies: read them as
/// such, so every documented error arrives as `Error::ErrorResponse` holding a `types::Problem`.
fn problem_documents_as_json(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Object(content)) = object.get_mut("content")
                && let Some(media) = content.remove("application/problem+json")
            {
                content.entry("application/json").or_insert(media);
            }
            object.values_mut().for_each(problem_documents_as_json);
        }
        Value::Array(items) => items.iter_mut().for_each(problem_documents_as_json),
        _ => {}
    }
}

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    let file = std::fs::File::open(SPEC).expect("openapi/openapi-3.0.json is readable");
    let mut document: Value = serde_json::from_reader(file).expect("the spec is JSON");
    problem_documents_as_json(&mut document);
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(document).expect("the spec is OpenAPI 3.0");
    let mut settings = progenitor::GenerationSettings::default();
    settings.with_interface(progenitor::InterfaceStyle::Builder);
    let tokens = progenitor::Generator::new(&settings)
        .generate_tokens(&spec)
        .expect("progenitor generates the client");
    let code = prettyplease::unparse(&syn::parse2(tokens).expect("the generated code parses"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("escalade.rs"), code).expect("OUT_DIR is writable");
}
