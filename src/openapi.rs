//! The OpenAPI document: metadata, the bearer scheme and the shared components. Operations are
//! collected from the handlers as they are registered (see `startup`); `apply_conventions` then
//! adds what every `/v1` operation shares (rate limits, and `Idempotency-Key` on every POST).

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::domain::CountryCode;
use crate::error::{DuplicateOf, FieldError, Problem, Violation};
use crate::http::idempotency::{KEY_HEADER, KEY_PATTERN, MAX_KEY_LEN, REPLAYED_HEADER};
use crate::http::responses::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "escalade",
        description = "Support escalations from CSP partners to 21Vianet, the operator of Microsoft's \
clouds in China. Partners find the customer, pick the service, try self-help and service health, then \
submit an escalation that meets 21Vianet's criteria; 21Vianet's support staff triage it.\n\n\
Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457 problem documents with a \
stable `code`. Lists are keyset-paginated with `limit` and `cursor`. Updates need `If-Match`.\n\n\
Every POST honours `Idempotency-Key` for 24 hours: a retry with the same key and request gets the first \
answer again, marked `Idempotency-Replayed: true`. Each API key has a rate limit, stated on every \
answer by `RateLimit-Policy` and `RateLimit`; beyond it, 429 with `Retry-After`.\n\n\
Partners subscribe to events with webhook endpoints; deliveries are signed per Standard Webhooks.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "me", description = "Who the caller is."),
        (name = "partners", description = "CSP partners (admins write, operators read)."),
        (name = "api-keys", description = "API keys: shown once at creation, stored hashed, revocable."),
        (name = "customers", description = "Each partner's customers, with Partner Center-style search."),
        (name = "services", description = "The service catalog: the six clouds 21Vianet operates and marketplace products."),
        (name = "subscriptions", description = "Which services each customer has, and in what state."),
        (name = "service-incidents", description = "Service health: incidents and their updates."),
        (name = "self-help", description = "What to try before escalating: admin center, self-help, service health."),
        (name = "escalations", description = "Escalations to 21Vianet: the criteria, the lifecycle, notes and the audit trail."),
        (name = "remediation", description = "Escalation quality and the remediation plans 21Vianet requests."),
        (name = "webhooks", description = "Webhook endpoints, signed per Standard Webhooks, and every delivery attempt."),
        (name = "operations", description = "Liveness and readiness, without authentication."),
    ),
    components(
        schemas(Problem, FieldError, Violation, DuplicateOf, CountryCode),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge,
            UnsupportedMediaType, Unprocessable, PreconditionRequired, ServiceUnavailable,
            TooManyRequests, IdempotencyConflict
        )
    ),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("API key")
                        .description(Some("An escalade API key: `Authorization: Bearer esc_…`."))
                        .build(),
                ),
            );
    }
}

/// Adds what every `/v1` operation shares to the collected document: the 429 answer, and on
/// every POST the `Idempotency-Key` header with the answers it can bring (400 for a malformed
/// key, 409 while the first request runs, 422 for a key reused on another request) and the
/// `Idempotency-Replayed` header on success.
pub fn apply_conventions(api: &mut utoipa::openapi::OpenApi) {
    for (path, item) in api.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            answer_once(operation, "429", TooManyRequests::response().0);
        }
        if let Some(post) = item.post.as_mut() {
            answer_once(post, "429", TooManyRequests::response().0);
            idempotent(post);
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
