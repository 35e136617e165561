//! The published contract: `openapi/openapi.json` and its 3.0 rendition are what the code
//! generates, and it documents every operation completely.

use escalade::config::OpenapiVersion;
use serde_json::Value;

#[test]
fn the_checked_in_specs_are_the_generated_ones() {
    let checked_in = [
        (
            OpenapiVersion::V3_1,
            include_str!("../../openapi/openapi.json"),
            "openapi/openapi.json",
            "",
        ),
        (
            OpenapiVersion::V3_0,
            include_str!("../../openapi/openapi-3.0.json"),
            "openapi/openapi-3.0.json",
            " --version 3.0",
        ),
    ];
    for (version, checked_in, file, flag) in checked_in {
        let generated = escalade::run::openapi_json(version);
        assert!(
            generated.trim_end() == checked_in.trim_end(),
            "{file} is out of date with the code. Regenerate it with:\n\n    \
             cargo run --quiet -- openapi{flag} > {file}\n"
        );
    }
}

fn spec() -> Value {
    serde_json::from_str(&escalade::run::openapi_json(OpenapiVersion::V3_1)).unwrap()
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

/// The object itself (a response, a parameter), following a `$ref` to the shared components.
fn resolve<'a>(spec: &'a Value, object: &'a Value) -> &'a Value {
    match object["$ref"].as_str() {
        Some(reference) => spec
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{reference} resolves")),
        None => object,
    }
}

/// Whether `path` is behind authentication: `/v1` but what a front end reads before anyone has
/// signed in (`/v1/auth`).
fn authenticated(path: &str) -> bool {
    path.starts_with("/v1/") && !path.starts_with("/v1/auth/")
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
        if authenticated(&path) {
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
            if status == "204" || status == "304" {
                continue;
            }
            let content = response["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{at}: content"));
            for (media_type, body) in content {
                // A file's bytes have no example to show.
                let schema = body["schema"]["$ref"]
                    .as_str()
                    .and_then(|reference| reference.rsplit('/').next())
                    .map_or(&body["schema"], |name| &spec["components"]["schemas"][name]);
                if schema["format"] == "binary" {
                    continue;
                }
                let examples = body["examples"].as_object();
                if let Some(examples) = examples {
                    for (name, example) in examples {
                        assert!(example["value"].is_object(), "{at} {media_type}: {name}");
                    }
                    continue;
                }
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

/// The headers every answer carries are documented on every answer, and each single resource's
/// GET documents its conditional form.
#[test]
fn shared_headers_and_conditional_reads_are_documented() {
    let spec = spec();
    for (method, path, operation) in operations(&spec) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let at = format!("{method} {path} {status}");
            let headers = &resolve(&spec, response)["headers"];
            assert!(headers["X-Request-Id"].is_object(), "{at}: X-Request-Id");
            let authenticated = authenticated(&path) && status != "401";
            assert_eq!(
                headers["RateLimit"].is_object() && headers["RateLimit-Policy"].is_object(),
                authenticated,
                "{at}: rate limits"
            );
        }
        let single =
            method == "GET" && operation["responses"]["200"]["headers"]["ETag"].is_object();
        let names: Vec<&str> = operation["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names.contains(&"If-None-Match"), single, "{method} {path}");
        assert_eq!(
            operation["responses"]["304"].is_object(),
            single,
            "{method} {path}"
        );
    }
}

/// `Idempotency-Key` is an optional header of every POST under /v1 and of no GET, and every
/// success of a POST documents `Idempotency-Replayed`.
#[test]
fn the_idempotency_key_and_the_replayed_header_are_documented_on_every_post_and_no_get() {
    let spec = spec();
    let mut posts = 0;
    for (method, path, operation) in operations(&spec) {
        let at = format!("{method} {path}");
        let parameters = operation["parameters"].as_array().into_iter().flatten();
        let key = parameters.map(|p| resolve(&spec, p)).find(|parameter| {
            let name = parameter["name"].as_str().unwrap_or_default();
            parameter["in"] == "header" && name.eq_ignore_ascii_case("Idempotency-Key")
        });
        if !path.starts_with("/v1/") || !["GET", "POST"].contains(&method.as_str()) {
            continue;
        }
        if method == "GET" {
            assert!(key.is_none(), "{at}: documents Idempotency-Key");
            continue;
        }
        posts += 1;
        let key = key.unwrap_or_else(|| panic!("{at}: no Idempotency-Key"));
        assert_ne!(key["required"], true, "{at}: the key is optional");
        let responses = operation["responses"].as_object().unwrap();
        let successes: Vec<_> = responses
            .iter()
            .filter(|(s, _)| s.starts_with('2'))
            .collect();
        assert!(!successes.is_empty(), "{at}: no success documented");
        for (status, response) in successes {
            let headers = resolve(&spec, response)["headers"].as_object();
            let mut names = headers.into_iter().flat_map(|headers| headers.keys());
            let replayed = names.any(|name| name.eq_ignore_ascii_case("Idempotency-Replayed"));
            assert!(
                replayed,
                "{at} {status}: Idempotency-Replayed is not documented"
            );
        }
    }
    assert!(posts > 0, "the spec has POST operations");
}

/// Generated clients break on response types that forbid new fields, and name unnamed unions
/// `…Type0`: responses stay open, and every union of objects is a list of named schemas.
#[test]
fn responses_are_open_and_unions_are_named() {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let mut in_responses = std::collections::BTreeSet::new();
    let mut pending: Vec<String> = Vec::new();
    let collect = |value: &Value, pending: &mut Vec<String>| {
        for reference in value
            .to_string()
            .split("\"$ref\":\"#/components/schemas/")
            .skip(1)
        {
            pending.push(reference.split('"').next().unwrap().to_owned());
        }
    };
    for (_, _, operation) in operations(&spec) {
        for response in operation["responses"].as_object().unwrap().values() {
            collect(&resolve(&spec, response)["content"], &mut pending);
        }
    }
    while let Some(name) = pending.pop() {
        if in_responses.insert(name.clone()) {
            collect(&schemas[&name], &mut pending);
        }
    }
    for name in &in_responses {
        assert!(
            !schemas[name]
                .to_string()
                .contains("\"additionalProperties\":false"),
            "{name} is answered, so it must not forbid properties a later version adds"
        );
    }
    for (name, schema) in schemas {
        if let Some(variants) = schema["oneOf"].as_array() {
            assert!(
                variants.iter().all(|v| v["$ref"].is_string()),
                "{name}: every variant is a named schema"
            );
            assert!(
                schema["discriminator"]["propertyName"].is_string(),
                "{name}"
            );
        }
    }
}
