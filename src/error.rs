//! One error type for the whole API, answered as RFC 9457 `application/problem+json`.
//!
//! Each variant documents its status. What reaches the client is built here and only here:
//! database and unexpected errors are logged with their cause and answered with an opaque
//! message, so no SQL, stack trace or secret can leak.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::DbErr;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Role;
use crate::domain::escalation::criteria::Criterion;
use crate::domain::role::Forbidden;
use crate::i18n::{Arg, Language, Text, list};
use crate::limits::RateLimitState;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request: `field` is a dotted path into the body, query or path; the
/// message is said in the caller's language when the answer is written.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: Text,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: Text) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message,
        }
    }

    fn body(&self, language: Language) -> FieldErrorBody {
        FieldErrorBody {
            field: self.field.clone(),
            code: self.code.clone(),
            message: self.message.render(language),
        }
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = FieldError, example = json!({"field": "domain", "code": "invalid_domain", "message": "must have at least two labels, like contoso.cn"}))]
pub struct FieldErrorBody {
    /// Dotted path of the field, e.g. `primary_contact.email`.
    pub field: String,
    /// Stable machine-readable reason, e.g. `required`, `length`, `invalid_email`.
    pub code: String,
    /// Human-readable explanation, in the answer's language.
    pub message: String,
}

/// An escalation criterion that is not met.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub criterion: Criterion,
    pub message: Text,
}

/// An escalation criterion that is not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Violation, example = json!({"criterion": "partner_troubleshooting", "message": "check service health again: the last check is more than 24 hours old"}))]
pub struct ViolationBody {
    pub criterion: Criterion,
    /// Why, in the answer's language.
    pub message: String,
}

/// The open escalation a new one would duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DuplicateOf {
    pub id: uuid::Uuid,
    #[schema(example = "ESC-000042")]
    pub number: String,
    /// Where to read it.
    #[schema(example = "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f")]
    pub href: String,
}

/// An RFC 9457 problem document, the body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI identifying the problem type: `urn:escalade:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type, in the answer's language.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence, in the answer's language.
    pub detail: String,
    /// The request path this occurrence happened on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Stable machine-readable code; clients branch on this.
    pub code: String,
    /// Every invalid field, when the problem is about the request's fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorBody>,
    /// Every escalation criterion not met, when an escalation is refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<ViolationBody>,
    /// The open escalation a new one would duplicate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<DuplicateOf>,
}

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read: malformed JSON, a path or query parameter of the wrong
    /// form.
    #[error("{}", .detail.render(Language::English))]
    BadRequest {
        code: &'static str,
        detail: Text,
        errors: Vec<FieldError>,
    },
    /// 401: no API key or token, or one that is unknown, revoked, expired or otherwise invalid.
    #[error("a valid API key or sign-in is required")]
    Unauthorized,
    /// 403: the caller's role may not use this operation.
    #[error("role {role} may not do this")]
    Forbidden { role: Role, allowed: Vec<Role> },
    /// 403: the caller may use this operation, but not on this resource (another side's
    /// attachment).
    #[error("{}", .detail.render(Language::English))]
    Denied { code: &'static str, detail: Text },
    /// 404: absent, or belonging to another partner; the two are indistinguishable on purpose.
    #[error("{resource} not found")]
    NotFound { resource: &'static str },
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<&'static str> },
    /// 409: the request conflicts with the current state, such as a value that must be unique.
    #[error("{}", .detail.render(Language::English))]
    Conflict {
        code: &'static str,
        detail: Text,
        errors: Vec<FieldError>,
    },
    /// 409: an escalation for the same customer, service and category is already open.
    #[error("{} is already open for this customer, service and category", .0.number)]
    DuplicateEscalation(DuplicateOf),
    /// 422: the escalation does not meet 21Vianet's criteria; every failed one is listed.
    #[error("the escalation does not meet 21Vianet's escalation criteria")]
    CriteriaNotMet(Vec<Violation>),
    /// 410: what the request refers to existed but is no longer kept.
    #[error("{}", .detail.render(Language::English))]
    Gone { code: &'static str, detail: Text },
    /// 412: `If-Match` names a version that is no longer current.
    #[error("the resource has changed since it was read")]
    PreconditionFailed,
    /// 408: the body did not arrive within the configured time; the connection is closed.
    #[error("the request body did not arrive within {secs} seconds")]
    RequestTimeout { secs: u64 },
    /// 413: the body is larger than the configured limit.
    #[error("the request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not declared as JSON.
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// 413: an upload larger than a limit; `code` says which.
    #[error("{}", .detail.render(Language::English))]
    ContentTooLarge { code: &'static str, detail: Text },
    /// 415: an upload whose content is not of an accepted kind.
    #[error("{}", .detail.render(Language::English))]
    UnsupportedContent { code: &'static str, detail: Text },
    /// 416: a `Range` outside the content; `size` is its length.
    #[error("the range is outside the content's {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// 422: the body is well-formed JSON but breaks the rules; `errors` lists every bad field.
    #[error("{}", .detail.render(Language::English))]
    Unprocessable {
        code: &'static str,
        detail: Text,
        errors: Vec<FieldError>,
    },
    /// 428: an update without `If-Match`.
    #[error("If-Match is required")]
    PreconditionRequired,
    /// 409: the first request with this `Idempotency-Key` is still being answered.
    #[error("a request with this Idempotency-Key is still in progress; retry shortly")]
    IdempotencyKeyInUse,
    /// 429: the API key used up its requests for now.
    #[error("too many requests for this API key; retry after {} seconds", .limit.retry_after)]
    TooManyRequests { limit: RateLimitState },
    /// 429: too many requests with a missing or wrong key came from this address; until the
    /// bucket refills, none is looked at, not even one with a good key.
    #[error("too many requests without a valid API key from this address; retry after {} seconds", .limit.retry_after)]
    TooManyFailedAuthentications { limit: RateLimitState },
    /// 429: the caller already holds as many event streams open as it may.
    #[error("{limit} event streams are already open for this caller")]
    TooManyStreams { limit: usize },
    /// 503: the database cannot be reached right now.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    /// 503: the database is there but too busy to answer in time: a lock held too long, a
    /// deadlock or serialization failure, a statement past its timeout, every connection in use.
    /// Trying again shortly usually succeeds.
    #[error("the database is busy")]
    Busy(#[source] DbErr),
    /// 503: the attachment store cannot be reached or refused the operation.
    #[error("the attachment store is unavailable")]
    StorageUnavailable(#[source] crate::storage::StorageError),
    /// 500: anything unexpected; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: Text) -> Self {
        Self::BadRequest {
            code,
            detail,
            errors: Vec::new(),
        }
    }

    /// 400 `invalid_query` listing every invalid query parameter.
    pub fn invalid_query(errors: Vec<FieldError>) -> Self {
        Self::BadRequest {
            code: "invalid_query",
            detail: Text::new("problem-invalid-query"),
            errors,
        }
    }

    /// 422 listing every invalid field.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        Self::Unprocessable {
            code: "validation_failed",
            detail: Text::new("fields-invalid").with("count", errors.len()),
            errors,
        }
    }

    /// 409 for a move a lifecycle does not allow: `field` asked to take `thing` (in its
    /// `from` state) to `to`; `possible` lists the moves there are (none: the state is final).
    pub fn invalid_transition(
        field: &'static str,
        thing: Text,
        from: &str,
        to: &str,
        possible: Vec<Arg>,
    ) -> Self {
        let count = possible.len();
        let possible = Arg::Alternatives(possible);
        Self::Conflict {
            code: "invalid_transition",
            detail: Text::new("problem-invalid-transition")
                .with("thing", thing)
                .with("from", from)
                .with("to", to)
                .with("count", count)
                .with("possible", possible.clone()),
            errors: vec![FieldError::new(
                field,
                "invalid_transition",
                Text::new("field-invalid-transition")
                    .with("from", from)
                    .with("count", count)
                    .with("possible", possible),
            )],
        }
    }

    pub fn not_found(resource: &'static str) -> Self {
        Self::NotFound { resource }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::Gone { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Denied { code, .. }
            | Self::ContentTooLarge { code, .. }
            | Self::UnsupportedContent { code, .. } => code,
            Self::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Self::StorageUnavailable(_) => "storage_unavailable",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::DuplicateEscalation(_) => "duplicate_escalation",
            Self::CriteriaNotMet(_) => "criteria_not_met",
            Self::PreconditionFailed => "stale_version",
            Self::RequestTimeout { .. } => "body_timeout",
            Self::PayloadTooLarge { .. } => "body_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PreconditionRequired => "if_match_required",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::TooManyFailedAuthentications { .. } => "too_many_failed_authentications",
            Self::TooManyStreams { .. } => "too_many_streams",
            Self::Unavailable(_) => "database_unavailable",
            Self::Busy(_) => "database_busy",
            Self::Internal(_) => "internal_error",
        }
    }

    /// What the client is told. Never includes a cause from below the HTTP layer.
    fn detail(&self) -> Text {
        match self {
            Self::BadRequest { detail, .. }
            | Self::Conflict { detail, .. }
            | Self::Gone { detail, .. }
            | Self::Unprocessable { detail, .. }
            | Self::Denied { detail, .. }
            | Self::ContentTooLarge { detail, .. }
            | Self::UnsupportedContent { detail, .. } => detail.clone(),
            Self::RangeNotSatisfiable { size } => {
                Text::new("problem-range-not-satisfiable").with("size", *size)
            }
            Self::StorageUnavailable(_) => Text::new("problem-storage-unavailable"),
            Self::Unauthorized => Text::new("problem-unauthorized"),
            Self::Forbidden { role, allowed } => Text::new("problem-forbidden")
                .with("role", role.as_str())
                .with("allowed", list(allowed.iter().map(|r| r.as_str()))),
            Self::NotFound { resource } => {
                Text::new("problem-not-found").with("resource", resource_name(resource))
            }
            Self::MethodNotAllowed { allow } => {
                Text::new("problem-method-not-allowed").with("allowed", list(allow.iter().copied()))
            }
            Self::DuplicateEscalation(duplicate) => {
                Text::new("problem-duplicate-escalation").with("number", duplicate.number.as_str())
            }
            Self::CriteriaNotMet(violations) => {
                Text::new("problem-criteria-not-met").with("count", violations.len())
            }
            Self::PreconditionFailed => Text::new("problem-stale-version"),
            Self::RequestTimeout { secs } => {
                Text::new("problem-body-timeout").with("seconds", *secs)
            }
            Self::PayloadTooLarge { limit } => {
                Text::new("problem-body-too-large").with("limit", *limit)
            }
            Self::UnsupportedMediaType => Text::new("problem-unsupported-media-type"),
            Self::PreconditionRequired => Text::new("problem-if-match-required"),
            Self::IdempotencyKeyInUse => Text::new("problem-idempotency-key-in-use"),
            Self::TooManyRequests { limit } => {
                Text::new("problem-rate-limited").with("seconds", limit.retry_after)
            }
            Self::TooManyFailedAuthentications { limit } => {
                Text::new("problem-too-many-failed-authentications")
                    .with("seconds", limit.retry_after)
            }
            Self::TooManyStreams { limit } => {
                Text::new("problem-too-many-streams").with("limit", *limit)
            }
            Self::Unavailable(_) => Text::new("problem-database-unavailable"),
            Self::Busy(_) => Text::new("problem-database-busy"),
            Self::Internal(_) => Text::new("problem-internal-error"),
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::BadRequest { errors, .. }
            | Self::Conflict { errors, .. }
            | Self::Unprocessable { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The problem document in `language`; `instance` is the request path when known.
    pub fn problem(&self, language: Language, instance: Option<String>) -> Problem {
        let status = self.status_code();
        Problem {
            problem_type: format!("urn:escalade:problem:{}", self.code()),
            title: status_title(status).render(language),
            status: status.as_u16(),
            detail: self.detail().render(language),
            instance,
            code: self.code().to_owned(),
            errors: self
                .field_errors()
                .iter()
                .map(|error| error.body(language))
                .collect(),
            violations: match self {
                Self::CriteriaNotMet(violations) => violations
                    .iter()
                    .map(|violation| ViolationBody {
                        criterion: violation.criterion,
                        message: violation.message.render(language),
                    })
                    .collect(),
                _ => Vec::new(),
            },
            duplicate_of: match self {
                Self::DuplicateEscalation(duplicate) => Some(duplicate.clone()),
                _ => None,
            },
        }
    }

    pub fn to_response(&self, language: Language, instance: Option<String>) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        response.insert_header((header::CONTENT_LANGUAGE, language.tag()));
        match self {
            Self::Unauthorized => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            Self::Unavailable(_) | Self::StorageUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            Self::Busy(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            Self::RangeNotSatisfiable { size } => {
                response.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            }
            Self::IdempotencyKeyInUse => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            Self::TooManyRequests { limit } | Self::TooManyFailedAuthentications { limit } => {
                response.insert_header((header::RETRY_AFTER, limit.retry_after.to_string()));
                for (name, value) in limit.headers() {
                    response.insert_header((name, value));
                }
            }
            _ => {}
        }
        response.json(self.problem(language, instance))
    }
}

/// The title of a problem with `status`: its reason phrase, in the answer's language.
fn status_title(status: StatusCode) -> Text {
    match status.as_u16() {
        400 => Text::new("status-400"),
        401 => Text::new("status-401"),
        403 => Text::new("status-403"),
        404 => Text::new("status-404"),
        405 => Text::new("status-405"),
        408 => Text::new("status-408"),
        409 => Text::new("status-409"),
        410 => Text::new("status-410"),
        412 => Text::new("status-412"),
        413 => Text::new("status-413"),
        415 => Text::new("status-415"),
        416 => Text::new("status-416"),
        422 => Text::new("status-422"),
        428 => Text::new("status-428"),
        429 => Text::new("status-429"),
        503 => Text::new("status-503"),
        _ => Text::new("status-500"),
    }
}

/// What a 404 says was not found.
fn resource_name(resource: &str) -> Text {
    match resource {
        "customer" => Text::new("resource-customer"),
        "delivery" => Text::new("resource-delivery"),
        "event" => Text::new("resource-event"),
        "attachment" => Text::new("resource-attachment"),
        "escalation" => Text::new("resource-escalation"),
        "partner" => Text::new("resource-partner"),
        "person" => Text::new("resource-person"),
        "remediation plan" => Text::new("resource-remediation-plan"),
        "route" => Text::new("resource-route"),
        "service incident" => Text::new("resource-service-incident"),
        "service" => Text::new("resource-service"),
        "subscription" => Text::new("resource-subscription"),
        "webhook endpoint" => Text::new("resource-webhook-endpoint"),
        "business calendar" => Text::new("resource-business-calendar"),
        "api key" | "API key" => Text::new("resource-api-key"),
        _ => Text::new("resource-other"),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::Denied { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } | Self::DuplicateEscalation(_) | Self::IdempotencyKeyInUse => {
                StatusCode::CONFLICT
            }
            Self::TooManyRequests { .. }
            | Self::TooManyFailedAuthentications { .. }
            | Self::TooManyStreams { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::CriteriaNotMet(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType | Self::UnsupportedContent { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Self::ContentTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::Unavailable(_) | Self::Busy(_) | Self::StorageUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The middleware in `http::problem` renders again in the caller's language with
    /// `instance` filled in; this is the fallback when the error escapes it.
    fn error_response(&self) -> HttpResponse {
        self.to_response(Language::English, None)
    }
}

impl From<Forbidden> for ApiError {
    fn from(refused: Forbidden) -> Self {
        Self::Forbidden {
            role: refused.role,
            allowed: refused.allowed,
        }
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(err: crate::storage::StorageError) -> Self {
        Self::StorageUnavailable(err)
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        match classify(&err) {
            DbTrouble::Unreachable => Self::Unavailable(err),
            DbTrouble::Busy => Self::Busy(err),
            DbTrouble::Other => Self::Internal(Box::new(err)),
        }
    }
}

/// What a database error says about the database, rather than about the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbTrouble {
    /// It cannot be reached: refused, reset, closed, shutting down.
    Unreachable,
    /// It is there but could not answer in time: see [`ApiError::Busy`].
    Busy,
    /// Anything else: a statement's own fault.
    Other,
}

/// PostgreSQL's SQLSTATEs for waits that ran out or were broken up to be tried again:
/// lock_not_available (`lock_timeout`), serialization_failure, deadlock_detected,
/// query_canceled (`statement_timeout`), and admin_shutdown (a restart in progress).
const POSTGRES_BUSY: [&str; 5] = ["55P03", "40001", "40P01", "57014", "57P01"];

/// SQLite's primary result codes for a database another connection holds: SQLITE_BUSY (the
/// busy handler gave up) and SQLITE_LOCKED. Extended codes carry them in their low byte.
const SQLITE_BUSY: [i64; 2] = [5, 6];

pub fn classify(err: &DbErr) -> DbTrouble {
    use sea_orm::{RuntimeErr, sqlx};
    let sqlx_error = match err {
        DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout) => return DbTrouble::Busy,
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return DbTrouble::Unreachable,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return DbTrouble::Other,
    };
    match sqlx_error.as_ref() {
        sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            DbTrouble::Unreachable
        }
        // Every connection in use for longer than the acquire timeout.
        sqlx::Error::PoolTimedOut => DbTrouble::Busy,
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            let busy = if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                code.parse::<i64>()
                    .is_ok_and(|code| SQLITE_BUSY.contains(&(code & 0xff)))
            } else {
                POSTGRES_BUSY.contains(&code.as_ref())
            };
            if busy {
                DbTrouble::Busy
            } else {
                DbTrouble::Other
            }
        }
        _ => DbTrouble::Other,
    }
}

/// A unique index a write can collide with, and the request field it stands for.
#[derive(Debug, Clone, Copy)]
pub struct UniqueKey {
    /// The index name, as PostgreSQL reports it.
    pub index: &'static str,
    /// `table.column`, as SQLite reports it.
    pub column: &'static str,
    /// The request field to name in the 409.
    pub field: &'static str,
    /// What the 409 says.
    pub message: fn() -> Text,
}

/// Turns database errors into client errors at one place.
pub trait ResultExt<T> {
    /// A unique violation on one of `keys` becomes 409 naming its field; any other error is
    /// converted as usual.
    fn on_unique(self, keys: &[UniqueKey]) -> Result<T, ApiError>;
}

impl<T> ResultExt<T> for Result<T, DbErr> {
    fn on_unique(self, keys: &[UniqueKey]) -> Result<T, ApiError> {
        self.map_err(|err| {
            let Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() else {
                return err.into();
            };
            match keys
                .iter()
                .find(|key| detail.contains(key.index) || detail.contains(key.column))
            {
                Some(key) => ApiError::Conflict {
                    code: "already_exists",
                    detail: (key.message)(),
                    errors: vec![FieldError::new(key.field, "taken", (key.message)())],
                },
                None => err.into(),
            }
        })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}
