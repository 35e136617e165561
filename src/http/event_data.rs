//! What each event carries, one shape per event type: the same in the feed, the stream and
//! webhook deliveries. The handlers that announce an event build its `data` from these types, so
//! what the OpenAPI document says of each event ([`AnyEvent`], and the 3.1 document's `webhooks`) is
//! what is sent.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{
    ContentBuilder, KnownFormat, Paths, Ref, RefOr, Required, ResponseBuilder, SchemaFormat,
};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::domain::escalation::Status;
use crate::domain::webhook::EventType;
use crate::http::escalations::{Attachment, Escalation, Note};
use crate::http::incidents::ServiceIncident;
use crate::http::remediation::RemediationPlan;

/// `escalation.created`, `escalation.sla_warning` and `escalation.sla_breached`: the escalation
/// as it was then.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationData {
    pub escalation: Escalation,
}

/// `escalation.status_changed`: the escalation after the move, and the status it left.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChangeData {
    pub escalation: Escalation,
    pub previous_status: Status,
}

/// `escalation.note_added`: the note, and the escalation it was added to.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteData {
    pub escalation_id: Uuid,
    /// `ESC-000042`.
    pub escalation_number: String,
    pub note: Note,
}

/// `escalation.attachment_added` and `escalation.attachment_removed`: the file, and the
/// escalation it was attached to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentData {
    pub escalation_id: Uuid,
    /// `ESC-000042`.
    pub escalation_number: String,
    pub attachment: Attachment,
}

/// `service_incident.created` and `service_incident.resolved`: the incident, with its texts in
/// English and, where written, Chinese (`title_zh`).
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentData {
    pub incident: ServiceIncident,
}

/// `remediation_plan.requested`: the plan 21Vianet asks for.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemediationPlanData {
    pub remediation_plan: RemediationPlan,
}

/// How the document names and describes events of one type.
struct Kind {
    /// The component that describes the event.
    component: &'static str,
    /// The component that describes its `data`.
    data: &'static str,
    summary: &'static str,
}

fn kind(event_type: EventType) -> Kind {
    let (component, data, summary) = match event_type {
        EventType::EscalationCreated => (
            "EscalationCreatedEvent",
            "EscalationData",
            "An escalation was submitted.",
        ),
        EventType::EscalationStatusChanged => (
            "EscalationStatusChangedEvent",
            "StatusChangeData",
            "An escalation moved to another status.",
        ),
        EventType::EscalationNoteAdded => (
            "EscalationNoteAddedEvent",
            "NoteData",
            "A note was added to an escalation, by the partner or by 21Vianet.",
        ),
        EventType::EscalationAttachmentAdded => (
            "EscalationAttachmentAddedEvent",
            "AttachmentData",
            "A file was attached to an escalation, by the partner or by 21Vianet.",
        ),
        EventType::EscalationAttachmentRemoved => (
            "EscalationAttachmentRemovedEvent",
            "AttachmentData",
            "A file was removed from an escalation by whoever attached it.",
        ),
        EventType::EscalationSlaWarning => (
            "EscalationSlaWarningEvent",
            "EscalationData",
            "An escalation still waits for 21Vianet's first response with most of its response \
             time gone.",
        ),
        EventType::EscalationSlaBreached => (
            "EscalationSlaBreachedEvent",
            "EscalationData",
            "An escalation's first response is overdue.",
        ),
        EventType::ServiceIncidentCreated => (
            "ServiceIncidentCreatedEvent",
            "IncidentData",
            "21Vianet opened an incident on a service (every partner sees it).",
        ),
        EventType::ServiceIncidentResolved => (
            "ServiceIncidentResolvedEvent",
            "IncidentData",
            "A service incident was resolved (every partner sees it).",
        ),
        EventType::RemediationPlanRequested => (
            "RemediationPlanRequestedEvent",
            "RemediationPlanData",
            "21Vianet asked the partner for a remediation plan.",
        ),
    };
    Kind {
        component,
        data,
        summary,
    }
}

fn reference(component: &str) -> String {
    format!("#/components/schemas/{component}")
}

/// The schema of one event type: `id`, `type` (that type), `timestamp` and its `data`.
fn event_schema(event_type: EventType) -> Schema {
    let kind = kind(event_type);
    ObjectBuilder::new()
        .description(Some(kind.summary))
        .property(
            "id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .description(Some("The event's id, also the delivery's `webhook-id`.")),
        )
        .property(
            "type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([event_type.as_str()])),
        )
        .property(
            "timestamp",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some("When it happened.")),
        )
        .property("data", Ref::new(reference(kind.data)))
        .required("id")
        .required("type")
        .required("timestamp")
        .required("data")
        .into()
}

/// Any event, as the feed lists it, the stream sends it and a webhook delivers it: `type` says
/// which, and so what `data` holds.
pub struct AnyEvent;

impl PartialSchema for AnyEvent {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new();
        for event_type in EventType::ALL {
            one_of = one_of.item(Ref::new(reference(kind(*event_type).component)));
        }
        let mapping = EventType::ALL
            .iter()
            .map(|event_type| (event_type.as_str(), reference(kind(*event_type).component)));
        one_of
            .description(Some(
                "An event; `type` says which, and so what `data` holds.",
            ))
            .discriminator(Some(Discriminator::with_mapping("type", mapping)))
            .into()
    }
}

impl ToSchema for AnyEvent {
    /// The name the feed's items always had in the document.
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FeedEvent")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for event_type in EventType::ALL {
            schemas.push((
                kind(*event_type).component.to_owned(),
                event_schema(*event_type).into(),
            ));
        }
        fn with<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((T::name().into_owned(), T::schema()));
            T::schemas(schemas);
        }
        with::<EscalationData>(schemas);
        with::<StatusChangeData>(schemas);
        with::<NoteData>(schemas);
        with::<AttachmentData>(schemas);
        with::<IncidentData>(schemas);
        with::<RemediationPlanData>(schemas);
    }
}

/// `escalation.note_added` → `onEscalationNoteAdded`.
fn webhook_operation_id(event_type: EventType) -> String {
    let words = event_type.as_str().split(['.', '_']);
    std::iter::once("on".to_owned())
        .chain(words.map(|word| {
            let mut letters = word.chars();
            letters.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(letters).collect()
            })
        }))
        .collect()
}

/// The 3.1 document's `webhooks`: what an endpoint receives for each event type, signed per
/// Standard Webhooks.
pub fn webhooks() -> Paths {
    let mut paths = Paths::new();
    for event_type in EventType::ALL {
        let header = |name: &str, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        let operation = OperationBuilder::new()
            .operation_id(Some(webhook_operation_id(*event_type)))
            .summary(Some(kind(*event_type).summary))
            .parameter(header(
                "webhook-id",
                "The event's id: the same for every attempt, so a receiver can drop repeats.",
            ))
            .parameter(header(
                "webhook-timestamp",
                "When this attempt was sent, in seconds since the Unix epoch.",
            ))
            .parameter(header(
                "webhook-signature",
                "`v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` with the \
                 endpoint's secret; during a rotation's grace, one signature per secret, \
                 space-separated.",
            ))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::new(reference(kind(*event_type).component))))
                            .build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ))
            .response(
                "2XX",
                ResponseBuilder::new().description(
                    "Received. Any other answer, or none within the timeout, is tried again \
                     later.",
                ),
            );
        paths.add_path_operation(event_type.as_str(), vec![HttpMethod::Post], operation);
    }
    paths
}
