//! The OpenAPI document: metadata, the bearer scheme and the shared components. Operations are
//! collected from the handlers as they are registered (see `startup`); `conventions` then adds
//! what every operation shares, and `v30` renders the whole for OpenAPI 3.0 tools.

pub mod conventions;
pub mod union;
pub mod v30;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::domain::CountryCode;
use crate::error::{DuplicateOf, FieldErrorBody, Problem, ViolationBody};
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
Every `GET` also answers `HEAD`, with the same headers and no body. A single resource's `GET` takes \
`If-None-Match` with its `ETag` and answers 304 Not Modified while it is unchanged. Every answer \
carries `X-Request-Id`: the caller's own (1–128 visible ASCII characters) or a generated one, also in \
the service's logs. Browsers on the origins a deployment allows may call the API across origins \
(CORS); every header above is exposed to them.\n\n\
Answers speak the caller's language, English (`en`) or Simplified Chinese (`zh-Hans`), negotiated from \
`Accept-Language` (RFC 9110, with q-values): `zh`, `zh-CN`, `zh-Hans`, `zh-SG` give Chinese, `en*` English; \
anything else, or a malformed header, gives the deployment's default (English unless configured) and is \
never an error. Every answer says its language in `Content-Language` and carries \
`Vary: Accept-Language`. Problem `title` and `detail`, every field error and criterion `message` (in \
`errors`, `violations` and the checklist), self-help advice and quality summaries are in that language; \
the `code`s programs match on never change. Texts operators write (service names, self-help titles, \
incident titles and updates) come in the answer's language when written in it: a `*_zh` field beside \
the base one holds the Chinese, and the base text is used when there is none. `GET /v1/vocabulary` \
names every code (categories, severities, statuses, criteria, …) for people. A partner contact's \
`preferred_language` is the language 21Vianet's technician uses with the partner; the triage queue \
filters on it (`contact_language`). A replayed answer (`Idempotency-Replayed: true`) is in the \
language of the first request.\n\n\
Partners subscribe to events with webhook endpoints; deliveries are signed per Standard Webhooks.",
        contact(name = "The team that runs this escalade deployment"),
        license(name = "Apache-2.0", url = "https://www.apache.org/licenses/LICENSE-2.0"),
    ),
    servers((url = "/", description = "The deployment serving this document.")),
    tags(
        (name = "me", description = "Who the caller is."),
        (name = "partners", description = "CSP partners (admins write, operators read)."),
        (name = "api-keys", description = "API keys: shown once at creation, stored hashed, revocable."),
        (name = "people", description = "People who sign in with their organisation's identity, and where they sign in."),
        (name = "customers", description = "Each partner's customers, with Partner Center-style search."),
        (name = "services", description = "The service catalog: the six clouds 21Vianet operates and marketplace products."),
        (name = "subscriptions", description = "Which services each customer has, and in what state."),
        (name = "service-incidents", description = "Service health: incidents and their updates."),
        (name = "self-help", description = "What to try before escalating: admin center, self-help, service health."),
        (name = "escalations", description = "Escalations to 21Vianet: the criteria, the lifecycle, notes, attachments and the audit trail."),
        (name = "remediation", description = "Escalation quality and the remediation plans 21Vianet requests."),
        (name = "webhooks", description = "Webhook endpoints, signed per Standard Webhooks, and every delivery attempt."),
        (name = "events", description = "The event feed: every event a caller may see, oldest first, to sync from when webhooks were missed."),
        (name = "calendar", description = "China's business calendar (holidays and make-up working days) and the SLA due times it gives."),
        (name = "vocabulary", description = "Every closed set of values, each with its name for people in the caller's language."),
        (name = "operations", description = "Liveness and readiness, without authentication."),
    ),
    components(
        schemas(Problem, FieldErrorBody, ViolationBody, DuplicateOf, CountryCode),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, Gone, Conflict, PreconditionFailed, RequestTimeout, PayloadTooLarge,
            UnsupportedMediaType, Unprocessable, PreconditionRequired, ServiceUnavailable,
            TooManyRequests, IdempotencyConflict, NotTheUploader, EscalationClosed, AttachmentTooLarge,
            UnsupportedAttachment, AttachmentRefused, RangeNotSatisfiable
        )
    ),
    modifiers(&BearerScheme, &Webhooks),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerScheme;

/// What each webhook delivery carries, per event type.
struct Webhooks;

impl Modify for Webhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.webhooks = Some(crate::http::event_data::webhooks());
    }
}

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
