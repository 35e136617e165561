//! Notes (append-only) and the audit trail of an escalation.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::TAG;
use super::read::visible;
use crate::domain::webhook::EventType;
use crate::domain::{ActorKind, Paragraph, Role};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::auth::{Anyone, Caller};
use crate::http::event_data::NoteData;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::http::fields;
use crate::http::idempotency::Idempotency;
use crate::http::pagination::{self, Cursor, list_type};
use crate::http::responses::*;
use crate::http::webhooks::{describe, notice};
use crate::store::escalations::{self as store, EventRow, NoteRow};
use crate::store::webhooks::Notice;

fn note_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f7-2b3c-7d4e-8f5a-6b7c8d9e0f1a",
        "escalation_id": "0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
        "author_role": "operator",
        "author": {"kind": "person", "id": "0193a1f3-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "name": "李娜"},
        "text": "请提供一封退信的完整邮件头。",
        "created_at": "2026-11-24T03:30:00Z"
    })
}

/// Who acted: a person signed in with their organisation's identity, or a system with an API key.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"kind": "person", "id": "0193a1f3-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "name": "李娜"}))]
pub struct ActorBody {
    pub kind: ActorKind,
    /// The person's id (see `/v1/people`), or the API key's.
    pub id: Uuid,
    /// The person's name, or the key's, as it was then.
    pub name: Option<String>,
}

impl ActorBody {
    /// The actor a row names by `id`, `kind` and `name`.
    pub fn of(id: Uuid, kind: &str, name: Option<String>) -> Result<Self, ApiError> {
        Ok(Self {
            kind: ActorKind::parse(kind)
                .ok_or_else(|| ApiError::internal(format!("stored actor kind {kind}")))?,
            id,
            name,
        })
    }
}

/// A note on an escalation; notes are never edited.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = note_example)]
pub struct Note {
    pub id: Uuid,
    pub escalation_id: Uuid,
    /// Who wrote it: `partner`, `operator` or `admin`.
    pub author_role: Role,
    /// The person or key that wrote it.
    pub author: Option<ActorBody>,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<NoteRow> for Note {
    type Error = ApiError;

    fn try_from(row: NoteRow) -> Result<Self, ApiError> {
        Ok(Note {
            author_role: row.author_role.parse().map_err(ApiError::internal)?,
            author: row
                .author_id
                .map(|id| ActorBody::of(id, &row.author_kind, row.author_name))
                .transpose()?,
            id: row.id,
            escalation_id: row.escalation_id,
            text: row.text,
            created_at: row.created_at,
        })
    }
}

list_type!(
    /// A page of notes, oldest first.
    NoteList of Note,
    example = note_example
);

fn event_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f7-3c4d-7e5f-8a6b-7c8d9e0f1a2b",
        "kind": "status_changed",
        "actor": {"role": "operator", "key_id": null, "kind": "person", "id": "0193a1f3-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "name": "李娜"},
        "at": "2026-11-24T03:20:00Z",
        "before": {"status": "submitted", "engineer": null},
        "after": {"status": "in_progress", "engineer": {"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+861055550123"},
                  "reason": null, "misescalation": null}
    })
}

/// Who made a change: the role they acted in, and the person or key.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventActor {
    pub role: Role,
    /// The API key used, when a key made the change (`kind` is `api_key`).
    pub key_id: Option<Uuid>,
    pub kind: Option<ActorKind>,
    /// The person's id or the key's.
    pub id: Option<Uuid>,
    /// The person's name or the key's, as it was then.
    pub name: Option<String>,
}

/// One immutable entry of the audit trail: `created`, `status_changed` (with any engineer
/// assignment) or `note_added`, with what changed before and after.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = event_example)]
pub struct Event {
    pub id: Uuid,
    /// `created`, `status_changed` or `note_added`.
    pub kind: String,
    pub actor: EventActor,
    pub at: DateTime<Utc>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl TryFrom<EventRow> for Event {
    type Error = ApiError;

    fn try_from(row: EventRow) -> Result<Self, ApiError> {
        Ok(Event {
            actor: {
                let who = row
                    .actor_id
                    .map(|id| ActorBody::of(id, &row.actor_kind, row.actor_name))
                    .transpose()?;
                EventActor {
                    role: row.actor_role.parse().map_err(ApiError::internal)?,
                    key_id: who
                        .as_ref()
                        .filter(|who| who.kind == ActorKind::ApiKey)
                        .map(|who| who.id),
                    kind: who.as_ref().map(|who| who.kind),
                    id: who.as_ref().map(|who| who.id),
                    name: who.and_then(|who| who.name),
                }
            },
            id: row.id,
            kind: row.kind,
            at: row.at,
            before: row.before,
            after: row.after,
        })
    }
}

list_type!(
    /// A page of the audit trail, oldest first.
    EventList of Event,
    example = event_example
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "已附上退信邮件头，见附件 bounce-0924.eml。"}))]
pub struct NewNote {
    #[validate(required, custom(function = "fields::paragraph"))]
    #[schema(value_type = Paragraph, required = true)]
    pub text: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrailQuery {
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

/// Add a note
///
/// The partner and 21Vianet's operators exchange notes on an escalation; notes are never edited.
#[utoipa::path(
    operation_id = "addEscalationNote",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The escalation's id.")),
    request_body = NewNote,
    responses(
        (status = 201, description = "Added.", body = Note,
            headers(("Location" = String, description = "The escalation's notes."))),
        ReadFailures, BodyFailures,
    ),
)]
#[post("/escalations/{id}/notes")]
#[tracing::instrument(skip_all, fields(escalation_id = %id))]
pub async fn add_note(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: ValidJson<NewNote>,
) -> Result<HttpResponse, ApiError> {
    let (escalation, listened) = store::get_with_listeners(&state.db, caller.scope(), *id)
        .await?
        .ok_or(ApiError::not_found("escalation"))?;
    let text = fields::present("text", body.0.text)?;
    let text = fields::parsed("text", &text, Paragraph::parse)?;
    idempotency.claim(&state.db).await?;
    let actor = caller.0.clone();
    let announce = |row: &NoteRow| {
        let note = describe(Note::try_from(row.clone()))?;
        let data = NoteData {
            escalation_id: escalation.id,
            escalation_number: escalation.number.clone(),
            note,
        };
        Ok(Notice {
            may_be_heard: listened,
            ..notice(
                EventType::EscalationNoteAdded,
                Some(escalation.partner_id),
                data,
            )?
        })
    };
    let note: Note = store::add_note(
        &state.db,
        &state.writes,
        &escalation,
        &actor,
        text.into_inner(),
        announce,
    )
    .await?
    .try_into()?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/v1/escalations/{}/notes", escalation.id)))
        .json(note))
}

/// List notes
///
/// The notes the partner and 21Vianet's operators exchanged on an escalation, oldest first.
#[utoipa::path(
    operation_id = "listEscalationNotes",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The escalation's id."), TrailQuery),
    responses(
        (status = 200, description = "A page of notes, oldest first.", body = NoteList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        ReadFailures,
    ),
)]
#[get("/escalations/{id}/notes")]
#[tracing::instrument(skip_all, fields(escalation_id = %id))]
pub async fn list_notes(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: ValidQuery<TrailQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let escalation = visible(&state, &caller, *id).await?;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let rows = store::notes(&state.db, escalation.id, page).await?;
    pagination::respond::<NoteList, _>(&req, rows, Note::try_from)
}

/// The audit trail
///
/// Every change to the escalation, oldest first: who, when, and what changed before and after.
/// Written in the same transaction as the change, never edited.
#[utoipa::path(
    operation_id = "listEscalationEvents",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The escalation's id."), TrailQuery),
    responses(
        (status = 200, description = "A page of events, oldest first.", body = EventList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        ReadFailures,
    ),
)]
#[get("/escalations/{id}/events")]
#[tracing::instrument(skip_all, fields(escalation_id = %id))]
pub async fn list_events(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: ValidQuery<TrailQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let escalation = visible(&state, &caller, *id).await?;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let rows = store::events(&state.db, escalation.id, page).await?;
    pagination::respond::<EventList, _>(&req, rows, Event::try_from)
}
