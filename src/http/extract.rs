//! Request extractors that answer bad input with precise problem documents: JSON bodies, query
//! strings and path parameters. Every invalid field is reported at once where the input can be
//! read at all.

use std::borrow::Cow;
use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};
use crate::i18n::{Text, list};

/// A JSON body, deserialised and then validated with `validator`.
///
/// * not declared as JSON: 415; larger than the limit: 413;
/// * not JSON at all: 400 `malformed_json`;
/// * JSON of the wrong shape (a wrong type, an unknown field): 422 naming the field;
/// * fields breaking their rules: 422 listing every one of them.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T> Deref for ValidJson<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(is_json_media_type);
        let limit = req
            .app_data::<BodyLimit>()
            .map_or(BodyLimit::DEFAULT, |limit| limit.0);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !declared_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = body.await.map_err(|err| {
                if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge { limit }
                } else {
                    ApiError::bad_request("unreadable_body", Text::new("problem-unreadable-body"))
                }
            })?;
            let value = parse_json::<T>(&bytes)?;
            Ok(ValidJson(value))
        })
    }
}

/// The configured body limit, shared with `web::PayloadConfig` so both agree.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

impl BodyLimit {
    pub const DEFAULT: usize = 64 * 1024;
}

/// `application/json` or any `application/*+json`, parameters such as `charset` allowed.
fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Syntax first (400 for anything that is not JSON), then shape and rules (422 listing every
/// field that is wrong, whatever the way).
fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| {
        ApiError::bad_request(
            "malformed_json",
            Text::new("problem-malformed-json")
                .with("line", err.line())
                .with("column", err.column()),
        )
    })?;
    // Serde would also read a struct from an array of its fields in order; the contract says
    // object, so only an object is read.
    if !value.is_object() {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            "body",
            "invalid_type",
            Text::new("field-body-object"),
        )]));
    }
    let (parsed, mut errors) = deserialize_collecting::<T>(value);
    if let Some(Err(invalid)) = parsed.as_ref().map(Validate::validate) {
        // A field already refused for its shape was set aside and may now look missing.
        // A list refused for one element was set aside whole: no second error for the list.
        let reported: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
        let overlaps = |field: &str| {
            reported
                .iter()
                .any(|r| r.starts_with(field) || field.starts_with(r.as_str()))
        };
        errors.extend(
            field_errors(&invalid)
                .into_iter()
                .filter(|e| !overlaps(&e.field)),
        );
    }
    match parsed {
        Some(value) if errors.is_empty() => Ok(value),
        _ => {
            errors.sort_by(|a, b| a.field.cmp(&b.field).then_with(|| a.code.cmp(&b.code)));
            Err(ApiError::invalid_fields(errors))
        }
    }
}

/// Most shape errors one body can report; past that, the first ones are enough to act on.
const MAX_SHAPE_ERRORS: usize = 32;

/// Serde stops at the first field of the wrong type or name. To report them all, each refused
/// field is set aside and the rest read again, until the body deserialises or a refusal
/// cannot be set aside (a missing field, an error about the whole body).
fn deserialize_collecting<T: DeserializeOwned>(
    mut value: serde_json::Value,
) -> (Option<T>, Vec<FieldError>) {
    let mut errors: Vec<FieldError> = Vec::new();
    while errors.len() < MAX_SHAPE_ERRORS {
        match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(parsed) => return (Some(parsed), errors),
            Err(err) => {
                let path = err.path().clone();
                let error = shape_error(&path.to_string(), &err.into_inner().to_string());
                if errors.iter().any(|seen| seen.field == error.field) {
                    break;
                }
                let set_aside = error.code != "required" && remove_at(&mut value, &path);
                errors.push(error);
                if !set_aside {
                    break;
                }
            }
        }
    }
    (None, errors)
}

/// Sets aside the member `path` leads to: the member itself, or for an element of a list the
/// whole list (the list's other elements then go unchecked, but every other field still is).
/// Whether there was such a member.
fn remove_at(value: &mut serde_json::Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let mut segments: Vec<&Segment> = path.iter().collect();
    while matches!(segments.last(), Some(Segment::Seq { .. })) {
        segments.pop();
    }
    let Some((Segment::Map { key }, parents)) = segments.split_last() else {
        return false;
    };
    let mut node = value;
    for segment in parents {
        node = match segment {
            Segment::Map { key } => match node.get_mut(key.as_str()) {
                Some(child) => child,
                None => return false,
            },
            Segment::Seq { index } => match node.get_mut(*index) {
                Some(child) => child,
                None => return false,
            },
            Segment::Enum { .. } | Segment::Unknown => return false,
        };
    }
    node.as_object_mut()
        .is_some_and(|object| object.remove(key.as_str()).is_some())
}

/// A deserialisation error for one field, without serde's line and column.
fn shape_error(path: &str, message: &str) -> FieldError {
    let message = message.split(" at line ").next().unwrap_or(message);
    let parent = if path == "." { "" } else { path };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        // The path usually already ends with the unknown key; keep it whole so nested fields
        // are named in full (`primary_contact.nickname`).
        let field = if parent == name || parent.ends_with(&format!(".{name}")) {
            parent.to_owned()
        } else if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        };
        return FieldError::new(field, "unknown_field", Text::new("field-unknown"));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        };
        return FieldError::new(field, "required", Text::new("field-required"));
    }
    let field = if parent.is_empty() {
        "body".to_owned()
    } else {
        parent.to_owned()
    };
    match message.strip_prefix("unknown variant `") {
        Some(rest) => {
            let allowed = rest
                .split_once("expected ")
                .map(|(_, expected)| quoted(expected))
                .unwrap_or_default();
            FieldError::new(
                field,
                "invalid_value",
                Text::new("field-allowed-values").with("values", list(allowed)),
            )
        }
        None => FieldError::new(field, "invalid_type", type_expected(message)),
    }
}

/// The `…`-quoted words of a serde message, in order.
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// What serde expected, said in the catalogue's words: `invalid type: X, expected Y`.
fn type_expected(message: &str) -> Text {
    let expected = message
        .rsplit_once("expected ")
        .map_or("", |(_, expected)| expected)
        .to_ascii_lowercase();
    let kind = if expected.contains("uuid") {
        Text::new("type-uuid")
    } else if expected.contains("rfc 3339") || expected.contains("datetime") {
        Text::new("type-date-time")
    } else if expected.contains("date") {
        Text::new("type-date")
    } else if expected.contains("bool") {
        Text::new("type-boolean")
    } else if [
        "integer", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize",
    ]
    .iter()
    .any(|name| expected.contains(name))
    {
        Text::new("type-integer")
    } else if expected.contains("sequence") || expected.contains("array") {
        Text::new("type-list")
    } else if expected.contains("struct") || expected.contains("map") {
        Text::new("type-object")
    } else if expected.contains("string") || expected.contains("str") {
        Text::new("type-string")
    } else {
        return Text::new("field-invalid-type-unknown");
    };
    Text::new("field-invalid-type").with("expected", kind)
}

/// Flattens `validator`'s nested errors into dotted paths, sorted so answers are stable.
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    fn walk(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
        for (field, kind) in errors.errors() {
            let path = if prefix.is_empty() {
                field.to_string()
            } else {
                format!("{prefix}.{field}")
            };
            match kind {
                ValidationErrorsKind::Field(list) => {
                    out.extend(
                        list.iter()
                            .map(|e| FieldError::new(&path, e.code.clone(), describe(e))),
                    );
                }
                ValidationErrorsKind::Struct(inner) => walk(&path, inner, out),
                ValidationErrorsKind::List(items) => {
                    for (index, inner) in items {
                        walk(&format!("{path}[{index}]"), inner, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk("", errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field).then_with(|| a.code.cmp(&b.code)));
    out
}

/// The message of a validation error: the catalogue text a rule of ours carried (see
/// `fields::refusal`), or one built from a `validator` rule's parameters.
fn describe(error: &validator::ValidationError) -> Text {
    if let Some(Cow::Borrowed(key)) = &error.message {
        return error
            .params
            .iter()
            .filter_map(|(name, value)| match name {
                Cow::Borrowed(name) => Some((*name, value)),
                Cow::Owned(_) => None,
            })
            .fold(Text::new(key), |text, (name, value)| match value {
                serde_json::Value::Number(n) => text.with(name, n.as_i64().unwrap_or_default()),
                serde_json::Value::String(s) => text.with(name, s.as_str()),
                _ => text,
            });
    }
    let param = |name: &str| error.params.get(name).and_then(serde_json::Value::as_i64);
    match error.code.as_ref() {
        "required" => Text::new("field-required"),
        "length" => match (param("min"), param("max"), param("equal")) {
            (_, _, Some(n)) => Text::new("field-length-exactly").with("count", n),
            (Some(min), Some(max), _) => Text::new("field-length-between")
                .with("min", min)
                .with("max", max),
            (Some(min), None, _) => Text::new("field-length-at-least").with("min", min),
            (None, Some(max), _) => Text::new("field-length-at-most").with("max", max),
            _ => Text::new("field-invalid"),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => Text::new("field-range-between")
                .with("min", min)
                .with("max", max),
            (Some(min), None) => Text::new("field-range-at-least").with("min", min),
            (None, Some(max)) => Text::new("field-range-at-most").with("max", max),
            _ => Text::new("field-invalid"),
        },
        _ => Text::new("field-invalid"),
    }
}

/// Query strings: wrong types and broken rules are 400 `invalid_query`, every field listed.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T> Deref for ValidQuery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(ValidQuery))
    }
}

fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    let invalid = ApiError::invalid_query;
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value: T = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        invalid(vec![shape_error(&path, &err.into_inner().to_string())])
    })?;
    value
        .validate()
        .map_err(|errors| invalid(field_errors(&errors)))?;
    Ok(value)
}

/// Path parameters that do not parse (a malformed UUID, say) are 400, not 404: the request is
/// wrong, not the resource missing.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, req| {
        // `GET /v1/escalations/validate` reaches the `{id}` route, but the path is the literal
        // `validate` one, which only takes POST.
        let table = req.app_data::<web::Data<crate::http::routes::RouteTable>>();
        if let Some(allow) = table.and_then(|table| table.allowed(req.path()))
            && !allow.contains(&req.method().as_str())
        {
            return ApiError::MethodNotAllowed { allow }.into();
        }
        let errors = req
            .match_info()
            .iter()
            .filter(|(name, value)| {
                (*name == "id" || name.ends_with("_id")) && uuid::Uuid::parse_str(value).is_err()
            })
            .map(|(name, _)| FieldError::new(name, "invalid_uuid", Text::new("field-invalid-uuid")))
            .collect();
        ApiError::BadRequest {
            code: "invalid_path_parameter",
            detail: Text::new("problem-invalid-path-parameter"),
            errors,
        }
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for bad in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "text/json",
        ] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }
}
