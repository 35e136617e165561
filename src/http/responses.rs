//! Reusable error responses for the OpenAPI document, each with an example, so every operation
//! lists every status it can answer with the same shape clients see.

#![allow(dead_code)] // The tuple structs are schema carriers, never built.

use utoipa::ToResponse;

use crate::error::Problem;

#[derive(ToResponse)]
#[response(
    description = "The request cannot be read: malformed JSON, or a path or query parameter of the wrong form.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:invalid_path_parameter", "title": "Bad Request", "status": 400,
        "detail": "a path parameter is malformed", "instance": "/v1/customers/not-a-uuid",
        "code": "invalid_path_parameter",
        "errors": [{"field": "id", "code": "invalid_uuid", "message": "must be a UUID"}]
    })
)]
pub struct BadRequest(Problem);

#[derive(ToResponse)]
#[response(
    description = "No API key, or one that is unknown or revoked. Carries `WWW-Authenticate: Bearer`.",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "Always `Bearer`.")),
    example = json!({
        "type": "urn:escalade:problem:unauthorized", "title": "Unauthorized", "status": 401,
        "detail": "sign in with your organisation, or use a valid API key", "instance": "/v1/customers", "code": "unauthorized"
    })
)]
pub struct Unauthorized(Problem);

#[derive(ToResponse)]
#[response(
    description = "The caller's role may not use this operation.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:forbidden", "title": "Forbidden", "status": 403,
        "detail": "role `partner` may not do this; allowed: admin", "instance": "/v1/partners",
        "code": "forbidden"
    })
)]
pub struct Forbidden(Problem);

#[derive(ToResponse)]
#[response(
    description = "Absent, or belonging to another partner: the two are answered alike.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:not_found", "title": "Not Found", "status": 404,
        "detail": "customer not found", "instance": "/v1/customers/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
        "code": "not_found"
    })
)]
pub struct NotFound(Problem);

#[derive(ToResponse)]
#[response(
    description = "What the request refers to existed but is no longer kept.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:events_expired", "title": "Gone", "status": 410,
        "detail": "the events after 0192f0c1-0000-7000-8000-000000000000 are no longer kept (the feed keeps 30 days); sync again from the start, without `after`",
        "instance": "/v1/events", "code": "events_expired"
    })
)]
pub struct Gone(Problem);

#[derive(ToResponse)]
#[response(
    description = "The request conflicts with the current state, such as a value that must be unique.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:already_exists", "title": "Conflict", "status": 409,
        "detail": "you already have a customer with this tenant_id", "instance": "/v1/customers",
        "code": "already_exists",
        "errors": [{"field": "tenant_id", "code": "taken", "message": "you already have a customer with this tenant_id"}]
    })
)]
pub struct Conflict(Problem);

#[derive(ToResponse)]
#[response(
    description = "`If-Match` names a version that is no longer current: read again and retry.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:stale_version", "title": "Precondition Failed", "status": 412,
        "detail": "the resource has changed since it was read; fetch it again and retry with its new ETag",
        "instance": "/v1/customers/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70", "code": "stale_version"
    })
)]
pub struct PreconditionFailed(Problem);

#[derive(ToResponse)]
#[response(
    description = "The body did not arrive within the configured time (15 seconds by default, plus a second for every 64 KiB received); the connection is closed.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:body_timeout", "title": "Request Timeout", "status": 408,
        "detail": "the request body did not arrive within 15 seconds", "instance": "/v1/customers",
        "code": "body_timeout"
    })
)]
pub struct RequestTimeout(Problem);

#[derive(ToResponse)]
#[response(
    description = "The body exceeds the configured limit (64 KiB by default).",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:body_too_large", "title": "Payload Too Large", "status": 413,
        "detail": "the request body exceeds 65536 bytes", "instance": "/v1/customers", "code": "body_too_large"
    })
)]
pub struct PayloadTooLarge(Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is not declared as `application/json`.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415,
        "detail": "the request body must be application/json", "instance": "/v1/customers",
        "code": "unsupported_media_type"
    })
)]
pub struct UnsupportedMediaType(Problem);

#[derive(ToResponse)]
#[response(
    description = "Well-formed JSON that breaks the rules; `errors` lists every invalid field at once.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:validation_failed", "title": "Unprocessable Entity", "status": 422,
        "detail": "2 fields are invalid", "instance": "/v1/customers", "code": "validation_failed",
        "errors": [
            {"field": "country", "code": "invalid_country", "message": "must be an ISO 3166-1 alpha-2 code such as CN"},
            {"field": "primary_contact.email", "code": "invalid_email", "message": "must be an e-mail address such as it-ops@contoso.cn"}
        ]
    })
)]
pub struct Unprocessable(Problem);

#[derive(ToResponse)]
#[response(
    description = "An update sent without `If-Match`.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:if_match_required", "title": "Precondition Required", "status": 428,
        "detail": "send If-Match with the ETag from your last read so concurrent changes are not lost",
        "instance": "/v1/customers/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70", "code": "if_match_required"
    })
)]
pub struct PreconditionRequired(Problem);

#[derive(ToResponse)]
#[response(
    description = "The database (or, for attachments, the attachment store: `storage_unavailable`) cannot be reached right now; retry after the `Retry-After` seconds.",
    content_type = "application/problem+json",
    headers(("Retry-After" = String, description = "Seconds to wait before retrying.")),
    example = json!({
        "type": "urn:escalade:problem:database_unavailable", "title": "Service Unavailable", "status": 503,
        "detail": "the database is unavailable; retry shortly", "instance": "/v1/customers",
        "code": "database_unavailable"
    })
)]
pub struct ServiceUnavailable(Problem);

#[derive(ToResponse)]
#[response(
    description = "Uploaded by the other side (`not_the_uploader`): only the partner, or only 21Vianet's staff, may remove what they uploaded.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:not_the_uploader", "title": "Forbidden", "status": 403,
        "detail": "only the side that uploaded this file may remove it",
        "instance": "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f/attachments/0193a1f8-4d5e-7f6a-8b7c-9d0e1f2a3b4c",
        "code": "not_the_uploader"
    })
)]
pub struct NotTheUploader(Problem);

#[derive(ToResponse)]
#[response(
    description = "The escalation is closed (`escalation_closed`): files are attached and removed only while it is open. For an upload, also the first request with this `Idempotency-Key` still running (`idempotency_key_in_use`, with `Retry-After`).",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:escalation_closed", "title": "Conflict", "status": 409,
        "detail": "files can be attached or removed only while the escalation is open; it is resolved",
        "instance": "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f/attachments",
        "code": "escalation_closed"
    })
)]
pub struct EscalationClosed(Problem);

#[derive(ToResponse)]
#[response(
    description = "Larger than the per-file limit (`attachment_too_large`, 25 MiB by default) or than what is left of the escalation's (`attachments_total_too_large`, 200 MiB by default). A `Content-Length` over the limit is answered before the body is read.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:attachment_too_large", "title": "Payload Too Large", "status": 413,
        "detail": "the file exceeds 26214400 bytes, the largest accepted; compress it or split it",
        "instance": "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f/attachments",
        "code": "attachment_too_large"
    })
)]
pub struct AttachmentTooLarge(Problem);

#[derive(ToResponse)]
#[response(
    description = "The content is not of an accepted kind (`unsupported_attachment_type`); the detail names the kind found.",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:unsupported_attachment_type", "title": "Unsupported Media Type", "status": 415,
        "detail": "files of type application/x-executable are not accepted: attach images, PDF, text or logs, JSON or HAR, or a zip or gzip archive",
        "instance": "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f/attachments",
        "code": "unsupported_attachment_type"
    })
)]
pub struct UnsupportedAttachment(Problem);

#[derive(ToResponse)]
#[response(
    description = "An empty file (`empty_attachment`), an escalation holding its most files (`too_many_attachments`, 20 by default), or an `Idempotency-Key` used with other bytes (`idempotency_key_reused`).",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:escalade:problem:too_many_attachments", "title": "Unprocessable Content", "status": 422,
        "detail": "the escalation already holds 20 files, the most it may hold; remove one first",
        "instance": "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f/attachments",
        "code": "too_many_attachments"
    })
)]
pub struct AttachmentRefused(Problem);

#[derive(ToResponse)]
#[response(
    description = "The range lies outside the content; `Content-Range: bytes */<size>` gives its size.",
    content_type = "application/problem+json",
    headers(("Content-Range" = String, description = "`bytes */<size>`.")),
    example = json!({
        "type": "urn:escalade:problem:range_not_satisfiable", "title": "Range Not Satisfiable", "status": 416,
        "detail": "the range asked for lies outside the file's 18342 bytes",
        "instance": "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f/attachments/0193a1f8-4d5e-7f6a-8b7c-9d0e1f2a3b4c/content",
        "code": "range_not_satisfiable"
    })
)]
pub struct RangeNotSatisfiable(Problem);

/// Declares a named set of failure responses, each a reference to one above, so an operation
/// lists the sets it shares with others and only its own statuses besides.
macro_rules! failures {
    ($(#[$doc:meta])* $name:ident { $($status:literal => $response:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(utoipa::IntoResponses)]
        pub enum $name {
            $(
                #[response(status = $status)]
                $response(#[ref_response] $response),
            )+
        }
    };
}

failures!(
    /// Any authenticated request that can be malformed: 400, 401, 503.
    RequestFailures { 400 => BadRequest, 401 => Unauthorized, 503 => ServiceUnavailable }
);

failures!(
    /// Reading one resource by its path: 400 for a malformed id, 401, 404, 503.
    ReadFailures { 400 => BadRequest, 401 => Unauthorized, 404 => NotFound, 503 => ServiceUnavailable }
);

failures!(
    /// A JSON body: 408 too slow, 413 too large, 415 not JSON, 422 invalid.
    BodyFailures {
        408 => RequestTimeout, 413 => PayloadTooLarge, 415 => UnsupportedMediaType,
        422 => Unprocessable
    }
);

failures!(
    /// An update under `If-Match`: 412 stale, 428 missing.
    ConditionFailures { 412 => PreconditionFailed, 428 => PreconditionRequired }
);

#[derive(ToResponse)]
#[response(
    description = "The API key used up its requests for now; retry after `Retry-After` seconds. \
`RateLimit-Policy` states the quota per key (`q`) and its window in seconds (`w`); `RateLimit` what \
remains (`r`) and the seconds until the quota is whole again (`t`).",
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = String, description = "Seconds to wait before the next request."),
        ("RateLimit-Policy" = String, description = "`\"per-key\";q=<quota>;w=60`."),
        ("RateLimit" = String, description = "`\"per-key\";r=<remaining>;t=<seconds until full>`."),
    ),
    example = json!({
        "type": "urn:escalade:problem:rate_limited", "title": "Too Many Requests", "status": 429,
        "detail": "too many requests for this API key; retry after 1 second", "instance": "/v1/customers",
        "code": "rate_limited"
    })
)]
pub struct TooManyRequests(Problem);

#[derive(ToResponse)]
#[response(
    description = "A conflict with the current state (`code` says which), or the first request with \
this `Idempotency-Key` is still being answered (`idempotency_key_in_use`: retry after `Retry-After`).",
    content_type = "application/problem+json",
    headers(("Retry-After" = String, description = "With `idempotency_key_in_use`: seconds to wait.")),
    example = json!({
        "type": "urn:escalade:problem:idempotency_key_in_use", "title": "Conflict", "status": 409,
        "detail": "a request with this Idempotency-Key is still in progress; retry shortly",
        "instance": "/v1/escalations", "code": "idempotency_key_in_use"
    })
)]
pub struct IdempotencyConflict(Problem);
