//! What every operation shares, added to the collected document in one place rather than
//! repeated on each handler: `Accept-Language` on every operation and `X-Request-Id` and
//! `Content-Language` on every answer; on `/v1`, the rate-limit headers and
//! the 429 answer; `If-None-Match` and 304 on every `GET` of a single resource (one whose answer
//! carries an `ETag`); `Idempotency-Key` and its answers on every `POST`.

use utoipa::ToResponse;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Components, OpenApi, Ref, RefOr, Required};

use crate::http::idempotency::{KEY_HEADER, KEY_PATTERN, MAX_KEY_LEN, REPLAYED_HEADER};
use crate::http::responses::{
    BadRequest, Forbidden, IdempotencyConflict, TooManyRequests, Unprocessable,
};

const REQUEST_ID: &str = "X-Request-Id";
const CONTENT_LANGUAGE: &str = "Content-Language";
const RATE_LIMIT: &str = "RateLimit";
const RATE_LIMIT_POLICY: &str = "RateLimit-Policy";
const NOT_MODIFIED: &str = "NotModified";

fn string_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

fn header_ref(name: &str) -> RefOr<Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}

/// The shared headers, and the 304 answer, as components.
fn add_components(components: &mut Components) {
    let headers = [
        (
            REQUEST_ID,
            "The request's id: the caller's own `X-Request-Id` when it is 1–128 visible ASCII characters, otherwise a generated UUID. Every log line of the request carries it.",
        ),
        (
            CONTENT_LANGUAGE,
            "The answer's language, `en` or `zh-Hans`, negotiated from `Accept-Language`. A replayed answer (`Idempotency-Replayed: true`) keeps the language of the first request.",
        ),
        (
            RATE_LIMIT_POLICY,
            "The API key's quota (`q`) per window of `w` seconds: `\"per-key\";q=600;w=60`.",
        ),
        (
            RATE_LIMIT,
            "What remains of the API key's quota (`r`) and the seconds until it is whole again (`t`): `\"per-key\";r=599;t=1`.",
        ),
    ];
    for (name, description) in headers {
        components
            .headers
            .insert(name.to_owned(), RefOr::T(string_header(description)));
    }
    let not_modified = ResponseBuilder::new()
        .description("The resource still has the `ETag` sent in `If-None-Match`: keep using the copy you have.")
        .header("ETag", string_header("The current version's entity tag."))
        .build();
    components
        .responses
        .insert(NOT_MODIFIED.to_owned(), RefOr::T(not_modified));
}

/// Documents the headers every answer of an operation carries: `X-Request-Id` and
/// `Content-Language` always, the rate limits on authenticated `/v1` answers (a 401 has no key
/// to count against).
fn document_headers(status: &str, response: &mut Response, rate_limited: bool) {
    for name in [REQUEST_ID, CONTENT_LANGUAGE] {
        response
            .headers
            .entry(name.to_owned())
            .or_insert_with(|| header_ref(name));
    }
    if rate_limited && status != "401" {
        for name in [RATE_LIMIT_POLICY, RATE_LIMIT] {
            response
                .headers
                .entry(name.to_owned())
                .or_insert_with(|| header_ref(name));
        }
    }
}

pub fn apply(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Components::new);
    add_components(components);
    // The shared answers are for the authenticated `/v1`; an operation outside it gets its own
    // copies, which carry no rate limits.
    for (path, item) in api.paths.paths.iter_mut() {
        if !authenticated(path) {
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                inline_shared(operation, components);
            }
        }
    }
    for (name, response) in components.responses.iter_mut() {
        if let RefOr::T(response) = response {
            // All but 401 come after authentication, so they carry the key's rate limits.
            let status = if name == "Unauthorized" { "401" } else { "" };
            document_headers(status, response, true);
        }
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let v1 = authenticated(path);
        let operations = [
            (&mut item.get, "GET"),
            (&mut item.post, "POST"),
            (&mut item.put, "PUT"),
            (&mut item.patch, "PATCH"),
            (&mut item.delete, "DELETE"),
        ];
        for (operation, method) in operations {
            let Some(operation) = operation.as_mut() else {
                continue;
            };
            accept_language(operation);
            if v1 {
                answer_once(operation, "429", TooManyRequests::response().0);
                // A person whose organisation or role escalade does not admit, or who is
                // disabled, is refused whatever they ask.
                answer_once(operation, "403", Forbidden::response().0);
            }
            if method == "GET" && single_resource(operation) {
                conditional(operation);
            }
            if v1 && method == "POST" {
                idempotent(operation);
            }
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(response) = response {
                    document_headers(status, response, v1);
                }
            }
        }
    }
}

/// Whether `path` is behind authentication: all of `/v1` but `/v1/auth`, which a front end reads
/// before anyone has signed in.
fn authenticated(path: &str) -> bool {
    path.starts_with("/v1/") && !path.starts_with("/v1/auth/")
}

/// `Accept-Language`, which every operation honours.
fn accept_language(operation: &mut Operation) {
    let accept_language = ParameterBuilder::new()
        .name("Accept-Language")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "The languages you read, as browsers send them (RFC 9110, with q-values): `zh`, `zh-CN`, `zh-Hans`, `zh-SG` and other Simplified Chinese tags give Chinese (`zh-Hans`), `en` and `en-*` English (`en`). Anything else, or a header that cannot be read, gives the deployment's default language; it is never an error.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .example(Some(serde_json::json!("zh-CN,zh;q=0.9,en;q=0.8")))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(accept_language));
}

/// Replaces the operation's references to shared answers with copies of them.
fn inline_shared(operation: &mut Operation, components: &Components) {
    for response in operation.responses.responses.values_mut() {
        if let RefOr::Ref(reference) = response {
            let name = reference
                .ref_location
                .rsplit('/')
                .next()
                .unwrap_or_default();
            if let Some(shared) = components.responses.get(name) {
                *response = shared.clone();
            }
        }
    }
}

fn answer_once(operation: &mut Operation, status: &str, response: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(response)));
}

/// Whether the operation answers one resource: its 200 carries an `ETag`.
fn single_resource(operation: &Operation) -> bool {
    matches!(
        operation.responses.responses.get("200"),
        Some(RefOr::T(response)) if response.headers.contains_key("ETag")
    )
}

/// `If-None-Match` and the 304 it can bring.
fn conditional(get: &mut Operation) {
    let if_none_match = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "The `ETag` of the copy you have (or several, comma-separated, or `*`): while it is current the answer is 304 with no body. Any other value leaves the answer as it is.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    get.parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(if_none_match));
    answer_once(get, "304", NOT_MODIFIED);
}

/// `Idempotency-Key` with the answers it can bring (400 for a malformed key, 409 while the first
/// request runs, 422 for a key reused on another request) and `Idempotency-Replayed` on success.
fn idempotent(post: &mut Operation) {
    let key = ParameterBuilder::new()
        .name(KEY_HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Any unique value of yours, such as a UUID, to make retries safe: for 24 hours the same key with the same request answers as the first time did (if it succeeded), without doing it again.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(KEY_PATTERN))
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_LEN)),
        ))
        .build();
    post.parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(key));
    answer_once(post, "400", BadRequest::response().0);
    // A 409 of the operation's own stays; its description names every conflict code.
    answer_once(post, "409", IdempotencyConflict::response().0);
    answer_once(post, "422", Unprocessable::response().0);
    let replayed = HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["true"])),
        ))
        .description(Some(
            "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
        ))
        .build();
    for (status, response) in post.responses.responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
            response
                .headers
                .insert(REPLAYED_HEADER.to_owned(), RefOr::T(replayed.clone()));
        }
    }
}
