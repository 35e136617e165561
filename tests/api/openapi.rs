//! The published contract: `openapi/openapi.json` is what the code generates, and it documents
//! every operation completely.

use serde_json::Value;

const CHECKED_IN: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_checked_in_spec_is_the_generated_one() {
    let generated = escalade::run::openapi_json();
    assert!(
        generated.trim_end() == CHECKED_IN.trim_end(),
        "openapi/openapi.json is out of date with the code. Regenerate it with:\n\n    \
         cargo run --quiet -- openapi > openapi/openapi.json\n"
    );
}

fn spec() -> Value {
    serde_json::from_str(&escalade::run::openapi_json()).unwrap()
}

fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((method.to_uppercase(), path.clone(), operation));
        }
    }
    found
}

/// The response object itself, following a `$ref` to the shared components.
fn resolve<'a>(spec: &'a Value, response: &'a Value) -> &'a Value {
    match response["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            &spec["components"]["responses"][name]
        }
        None => response,
    }
}

#[test]
fn every_operation_has_an_id_summary_tag_and_security() {
    let spec = spec();
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(spec["security"][0]["bearer"], Value::Array(vec![]));
    for (method, path, operation) in operations(&spec) {
        let at = format!("{method} {path}");
        assert!(operation["operationId"].is_string(), "{at}: operationId");
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{at}: summary"
        );
        assert!(operation["tags"][0].is_string(), "{at}: tag");
        if path.starts_with("/v1/") {
            assert!(
                operation.get("security").is_none(),
                "{at}: inherits the bearer requirement"
            );
            assert!(
                operation["responses"]["401"].is_object(),
                "{at}: documents 401"
            );
            assert!(
                operation["responses"]["503"].is_object(),
                "{at}: documents 503"
            );
        } else {
            assert_eq!(
                operation["security"],
                Value::Array(vec![]),
                "{at}: ops endpoints are public"
            );
        }
    }
}

#[test]
fn every_response_is_described_with_an_example() {
    let spec = spec();
    for (method, path, operation) in operations(&spec) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let at = format!("{method} {path} {status}");
            let response = resolve(&spec, response);
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{at}: description"
            );
            if status == "204" {
                continue;
            }
            let content = response["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{at}: content"));
            for (media_type, body) in content {
                let example = body.get("example").or_else(|| {
                    // A body without its own example uses its schema's.
                    let name = body["schema"]["$ref"].as_str()?.rsplit('/').next()?;
                    let schema = &spec["components"]["schemas"][name];
                    schema.get("example").or_else(|| schema.get("examples"))
                });
                assert!(example.is_some(), "{at} {media_type}: example");
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(media_type, "application/problem+json", "{at}");
                }
            }
        }
    }
}

#[test]
fn every_reference_resolves() {
    let spec = spec();
    let text = spec.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let reference = reference.split('"').next().unwrap();
        let path: Vec<&str> = reference.trim_start_matches("#/").split('/').collect();
        let target = path.iter().fold(&spec, |node, key| &node[*key]);
        assert!(!target.is_null(), "{reference} does not resolve");
    }
}

#[test]
fn operation_ids_are_unique() {
    let spec = spec();
    let mut ids: Vec<&str> = operations(&spec)
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap())
        .collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total);
}
