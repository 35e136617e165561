//! The document rendered for OpenAPI 3.0 tools (progenitor and other generators that read only
//! 3.0): the same operations and schemas, with the few 3.1 forms utoipa writes expressed the 3.0
//! way, and each problem answer also as `application/json` (see [`problems_as_json_too`]).
//! Checked in beside the 3.1 document as `openapi/openapi-3.0.json`.
//!
//! Only schemas are rewritten, found by walking the document's structure (never by a blind walk:
//! examples are data, and may contain keys such as `type`).
//!
//! One thing 3.0 cannot say: that a property holds a *referenced* schema or `null`. `nullable`
//! needs a `type` beside it and does not reach into `allOf`, so the rendition writes
//! `{type, allOf: [$ref], nullable: true}`, which generators read as an optional value of the
//! referenced type, while 3.0 validators still refuse `null` there (see `openapi/redocly.yaml`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

pub const VERSION: &str = "3.0.3";

/// The 3.0.3 rendition of a 3.1 document.
pub fn render(document: &Value) -> Value {
    let mut document = document.clone();
    document["openapi"] = json!(VERSION);
    if let Some(license) = document
        .pointer_mut("/info/license")
        .and_then(Value::as_object_mut)
    {
        // 3.1's SPDX `identifier` has no 3.0 counterpart; the license `url` says the same.
        license.remove("identifier");
    }
    if let Some(info) = document.get_mut("info").and_then(Value::as_object_mut) {
        info.remove("summary");
    }
    if let Some(root) = document.as_object_mut() {
        root.remove("webhooks");
        root.remove("jsonSchemaDialect");
    }
    let schemas = Schemas(component_types(&document));
    if let Some(components) = document.get_mut("components") {
        for_each_value(components.get_mut("schemas"), |s| schemas.rewrite(s));
        for_each_value(components.get_mut("parameters"), |p| {
            schemas.in_parameter(p)
        });
        for_each_value(components.get_mut("headers"), |h| schemas.in_parameter(h));
        for_each_value(components.get_mut("responses"), |r| schemas.in_response(r));
        for_each_value(components.get_mut("requestBodies"), |b| {
            schemas.in_content(b)
        });
    }
    for_each_value(document.get_mut("paths"), |item| {
        for_each_array_item(item.get_mut("parameters"), |p| schemas.in_parameter(p));
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            if let Some(operation) = item.get_mut(method) {
                for_each_array_item(operation.get_mut("parameters"), |p| schemas.in_parameter(p));
                if let Some(body) = operation.get_mut("requestBody") {
                    schemas.in_content(body);
                }
                for_each_value(operation.get_mut("responses"), |r| schemas.in_response(r));
            }
        }
    });
    document
}

/// A problem document is also answered as `application/json`, to a client that accepts JSON
/// but not problem documents: generators that type only `application/json` bodies (progenitor)
/// send `Accept: application/json`, and so type every error answer as a `Problem`.
fn problems_as_json_too(response: &mut Value) {
    let Some(Value::Object(content)) = response.get_mut("content") else {
        return;
    };
    if let Some(problem) = content.get("application/problem+json").cloned() {
        content.entry("application/json").or_insert(problem);
    }
}

/// The JSON type of each component schema, for nullable references to it: its `type`, or
/// `object` for a union of objects.
type Types = BTreeMap<String, Value>;

fn component_types(document: &Value) -> Types {
    let Some(Value::Object(schemas)) = document.pointer("/components/schemas") else {
        return Types::new();
    };
    schemas
        .iter()
        .filter_map(|(name, schema)| {
            let kind = match schema.get("type") {
                Some(Value::Array(types)) => types.iter().find(|t| *t != "null").cloned(),
                Some(kind) => Some(kind.clone()),
                None => ["oneOf", "anyOf", "allOf", "properties"]
                    .iter()
                    .any(|key| schema.get(key).is_some())
                    .then(|| json!("object")),
            };
            kind.map(|kind| (name.clone(), kind))
        })
        .collect()
}

fn for_each_value(map: Option<&mut Value>, mut f: impl FnMut(&mut Value)) {
    if let Some(Value::Object(map)) = map {
        map.values_mut().for_each(&mut f);
    }
}

fn for_each_array_item(array: Option<&mut Value>, f: impl FnMut(&mut Value)) {
    if let Some(Value::Array(items)) = array {
        items.iter_mut().for_each(f);
    }
}

/// Rewrites the schemas of a document whose component schemas have the types given.
struct Schemas(Types);

impl Schemas {
    /// A parameter or header: its `schema`.
    fn in_parameter(&self, parameter: &mut Value) {
        if let Some(schema) = parameter.get_mut("schema") {
            self.rewrite(schema);
        }
    }

    /// A response: its headers and content.
    fn in_response(&self, response: &mut Value) {
        for_each_value(response.get_mut("headers"), |header| {
            self.in_parameter(header)
        });
        self.in_content(response);
        problems_as_json_too(response);
    }

    /// A request body or response: the schema of each media type.
    fn in_content(&self, holder: &mut Value) {
        for_each_value(holder.get_mut("content"), |media| {
            if let Some(schema) = media.get_mut("schema") {
                self.rewrite(schema);
            }
        });
    }

    /// Rewrites one schema and, depth first, every schema inside it.
    fn rewrite(&self, value: &mut Value) {
        let Value::Object(object) = value else {
            return;
        };
        for key in ["items", "not", "additionalProperties"] {
            if let Some(inner) = object.get_mut(key) {
                self.rewrite(inner);
            }
        }
        for key in ["properties", "patternProperties"] {
            for_each_value(object.get_mut(key), |inner| self.rewrite(inner));
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for_each_array_item(object.get_mut(key), |inner| self.rewrite(inner));
        }
        nullable_type(object);
        nullable_alternative(object, &self.0);
        if let Some(Value::Array(examples)) = object.remove("examples")
            && let Some(first) = examples.into_iter().next()
        {
            object.entry("example").or_insert(first);
        }
        if let Some(value) = object.remove("const") {
            object.insert("enum".to_owned(), json!([value]));
        }
        for (exclusive, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(limit) = object.get(exclusive).filter(|v| v.is_number()).cloned() {
                object.insert(bound.to_owned(), limit);
                object.insert(exclusive.to_owned(), json!(true));
            }
        }
        ref_with_siblings(object);
    }
}

fn is_null_schema(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|object| object.len() == 1 && object.get("type") == Some(&json!("null")))
}

/// `type: [T, "null"]` → `type: T, nullable: true`.
fn nullable_type(object: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = object.get("type") else {
        return;
    };
    let (nulls, others): (Vec<&Value>, Vec<&Value>) =
        types.iter().partition(|t| *t == &json!("null"));
    let nullable = !nulls.is_empty();
    let others: Vec<Value> = others.into_iter().cloned().collect();
    match others.as_slice() {
        [single] => {
            object.insert("type".to_owned(), single.clone());
        }
        _ => {
            // Several types have no 3.0 form but an `anyOf` of each.
            object.remove("type");
            let alternatives = others.iter().map(|t| json!({"type": t})).collect();
            object.insert("anyOf".to_owned(), Value::Array(alternatives));
        }
    }
    if nullable {
        object.insert("nullable".to_owned(), json!(true));
    }
}

/// `oneOf: [A, {type: null}]` (how utoipa writes an optional reference or array) → `A` made
/// nullable (a reference through `allOf`, with the referenced schema's type); with several
/// alternatives besides null, the `oneOf` itself becomes nullable.
fn nullable_alternative(object: &mut Map<String, Value>, types: &Types) {
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(alternatives)) = object.get_mut(key) else {
            continue;
        };
        if !alternatives.iter().any(is_null_schema) {
            continue;
        }
        alternatives.retain(|alternative| !is_null_schema(alternative));
        if alternatives.len() == 1 {
            let only = alternatives.pop().expect("one alternative");
            object.remove(key);
            match only {
                Value::Object(inner) if !inner.contains_key("$ref") => {
                    for (k, v) in inner {
                        object.entry(k).or_insert(v);
                    }
                }
                reference => {
                    object.insert("allOf".to_owned(), json!([reference]));
                }
            }
        }
        object.insert("nullable".to_owned(), json!(true));
        // A nullable reference (also one whose siblings already moved it into `allOf`) takes
        // the referenced schema's type, without which `nullable` means nothing in 3.0.
        if let Some(Value::Array(all_of)) = object.get("allOf") {
            let target = match all_of.as_slice() {
                [only] => only["$ref"].as_str().and_then(|r| r.rsplit('/').next()),
                _ => None,
            };
            if let Some(kind) = target.and_then(|name| types.get(name)).cloned() {
                object.entry("type").or_insert(kind);
            }
        }
    }
}

/// In 3.0 a `$ref` ignores its siblings: keep them by referring through `allOf`.
fn ref_with_siblings(object: &mut Map<String, Value>) {
    if object.len() > 1
        && let Some(reference) = object.remove("$ref")
    {
        object.insert("allOf".to_owned(), json!([{"$ref": reference}]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered_schema(schema: Value) -> Value {
        let document = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "license": {"name": "Apache-2.0", "identifier": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"}},
            "paths": {},
            "components": {"schemas": {"S": schema}}
        });
        let rendered = render(&document);
        assert_eq!(rendered["openapi"], "3.0.3");
        assert!(rendered["info"]["license"].get("identifier").is_none());
        rendered["components"]["schemas"]["S"].clone()
    }

    #[test]
    fn type_arrays_with_null_become_nullable() {
        assert_eq!(
            rendered_schema(json!({"type": ["string", "null"], "format": "date-time"})),
            json!({"type": "string", "format": "date-time", "nullable": true})
        );
    }

    #[test]
    fn an_optional_reference_becomes_a_nullable_all_of_of_its_type() {
        let document = json!({
            "openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {
                "E": {"type": "object", "properties": {}},
                "Status": {"type": "string", "enum": ["open"]},
                "Union": {"oneOf": [{"$ref": "#/components/schemas/E"}]},
                "S": {"properties": {
                    "e": {"oneOf": [{"$ref": "#/components/schemas/E"}, {"type": "null"}]},
                    "status": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Status"}]},
                    "union": {"oneOf": [{"$ref": "#/components/schemas/Union"}, {"type": "null"}]},
                    "described": {"oneOf": [{"$ref": "#/components/schemas/E", "description": "d"}, {"type": "null"}]}
                }}
            }}
        });
        let properties = &render(&document)["components"]["schemas"]["S"]["properties"];
        assert_eq!(
            properties["e"],
            json!({"type": "object", "allOf": [{"$ref": "#/components/schemas/E"}], "nullable": true})
        );
        assert_eq!(
            properties["status"],
            json!({"type": "string", "allOf": [{"$ref": "#/components/schemas/Status"}], "nullable": true})
        );
        assert_eq!(properties["union"]["type"], "object");
        assert_eq!(
            properties["described"],
            json!({"type": "object", "allOf": [{"$ref": "#/components/schemas/E"}], "description": "d", "nullable": true})
        );
    }

    #[test]
    fn an_optional_inline_schema_becomes_nullable_itself() {
        assert_eq!(
            rendered_schema(json!({
                "oneOf": [{"type": "array", "items": {"type": ["integer", "null"]}}, {"type": "null"}],
                "description": "d"
            })),
            json!({"type": "array", "items": {"type": "integer", "nullable": true}, "nullable": true, "description": "d"})
        );
    }

    #[test]
    fn examples_const_and_exclusive_bounds_take_their_3_0_form() {
        assert_eq!(
            rendered_schema(json!({"type": "integer", "examples": [3, 4], "exclusiveMinimum": 0})),
            json!({"type": "integer", "example": 3, "minimum": 0, "exclusiveMinimum": true})
        );
        assert_eq!(
            rendered_schema(json!({"const": "x"})),
            json!({"enum": ["x"]})
        );
    }

    #[test]
    fn references_keep_their_siblings_through_all_of() {
        assert_eq!(
            rendered_schema(
                json!({"properties": {"p": {"$ref": "#/components/schemas/E", "description": "d"}}})
            ),
            json!({"properties": {"p": {"allOf": [{"$ref": "#/components/schemas/E"}], "description": "d"}}})
        );
    }

    #[test]
    fn examples_are_data_and_stay_as_they_are() {
        let example = json!({"type": ["not", "a", "schema"], "examples": [1]});
        let document = json!({
            "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/p": {"get": {"responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"type": "object", "examples": [example.clone()]}, "example": example.clone()}}
            }}}}}
        });
        let media = &render(&document)["paths"]["/p"]["get"]["responses"]["200"]["content"]["application/json"];
        assert_eq!(media["example"], example);
        assert_eq!(media["schema"]["example"], example);
    }
}
