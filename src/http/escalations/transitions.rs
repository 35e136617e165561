//! Moving an escalation through its lifecycle.

use actix_web::{HttpResponse, post, web};
use chrono::Utc;
use sea_orm::sea_query::{Expr, SimpleExpr};
use serde::Deserialize;
use serde_json::json;
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::TAG;
use super::input::EngineerInput;
use super::output::Escalation;
use super::read::visible;
use crate::domain::Paragraph;
use crate::domain::escalation::Status;
use crate::domain::escalation::lifecycle::{
    REOPEN_WINDOW_DAYS, Refusal, Side, check_move, moves_from,
};
use crate::domain::webhook::EventType;
use crate::error::{ApiError, DuplicateOf, FieldError};
use crate::http::AppState;
use crate::http::auth::{Anyone, Caller};
use crate::http::etag::{EntityTags, IfMatch, with_etag};
use crate::http::event_data::StatusChangeData;
use crate::http::extract::ValidJson;
use crate::http::fields;
use crate::http::idempotency::Idempotency;
use crate::http::responses::*;
use crate::http::webhooks::{describe, notice};
use crate::i18n::Text;
use crate::openapi::union::TaggedUnion;
use crate::store::escalations::{
    self as store, EscalationColumn as Column, EventRecord, StatusChange, TransitionError,
};

/// A move to another status, named by `to`: `in_progress` (an operator starting work, with
/// `engineer`; a partner answering while it awaits the partner, or reopening a resolved
/// escalation within 14 days), `awaiting_partner`, `resolved` (with the resolution as `reason`),
/// `closed`, `rejected` (operators, with `misescalation` and `reason`) or `withdrawn` (the
/// partner, before work starts). `reason` is a remark where it is optional.
///
/// Only the published schema: the body is read as [`TransitionBody`], whose errors name their
/// field, and each target's fields are checked in the handler.
pub struct TransitionRequest;

/// A transition body as read: every field a move may take.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    #[validate(required)]
    pub to: Option<Status>,
    #[validate(nested)]
    pub engineer: Option<EngineerInput>,
    /// The engineer as one of 21Vianet's people, whose name and e-mail their record gives.
    pub engineer_person_id: Option<Uuid>,
    #[validate(custom(function = "fields::paragraph"))]
    pub reason: Option<String>,
    pub misescalation: Option<bool>,
}

impl TransitionBody {
    /// Which fields the move to `to` needs and takes, every problem listed.
    fn check_fields(&self, to: Status) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        let needs_reason = matches!(to, Status::Resolved | Status::Rejected);
        if needs_reason && self.reason.is_none() {
            errors.push(FieldError::new(
                "reason",
                "required",
                Text::new("field-reason-required").with("to", to.as_str()),
            ));
        }
        match (to, self.misescalation) {
            (Status::Rejected, None) => errors.push(FieldError::new(
                "misescalation",
                "required",
                Text::new("field-misescalation-required"),
            )),
            (Status::Rejected, Some(_)) | (_, None) => {}
            (_, Some(_)) => errors.push(FieldError::new(
                "misescalation",
                "not_allowed",
                Text::new("field-misescalation-not-allowed"),
            )),
        }
        for (field, given) in [
            ("engineer", self.engineer.is_some()),
            ("engineer_person_id", self.engineer_person_id.is_some()),
        ] {
            if to != Status::InProgress && given {
                errors.push(FieldError::new(
                    field,
                    "not_allowed",
                    Text::new("field-engineer-only-when-starting"),
                ));
            }
        }
        if self.engineer.is_some() && self.engineer_person_id.is_some() {
            errors.push(FieldError::new(
                "engineer_person_id",
                "not_allowed",
                Text::new("field-engineer-one-way"),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_fields(errors))
        }
    }
}

/// One of 21Vianet's operators or admins, not disabled, to assign as the engineer; 422 naming
/// `engineer_person_id` otherwise.
async fn engineer_person(
    state: &AppState,
    id: Uuid,
) -> Result<crate::store::people::PersonRow, ApiError> {
    let person = crate::store::people::get(&state.db, crate::domain::Scope::All, id).await?;
    person
        .filter(|person| person.disabled_at.is_none())
        .ok_or_else(|| {
            ApiError::invalid_fields(vec![FieldError::new(
                "engineer_person_id",
                "unknown_engineer",
                Text::new("field-engineer-person-unknown"),
            )])
        })
}

/// Written by hand: one closed, named object per target status, so the published contract says
/// exactly which fields each move takes and needs.
fn transition_union() -> TaggedUnion {
    let reason = || Ref::from_schema_name(Paragraph::name());
    let optional = |schema: RefOr<Schema>| -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(schema)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    };
    let optional_reason =
        |object: ObjectBuilder| object.property("reason", optional(reason().into()));
    TaggedUnion::new("to")
        .variant(
            "TransitionToInProgress",
            "in_progress",
            "Start work (operators, with the engineer), answer while awaiting the partner, or reopen within 14 days (the partner).",
            |object| {
                let person_id = ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .description(Some(
                        "The engineer as one of 21Vianet's people (see `listPeople`), in place of `engineer`.",
                    ));
                optional_reason(object)
                    .property(
                        "engineer",
                        optional(Ref::from_schema_name(EngineerInput::name()).into()),
                    )
                    .property("engineer_person_id", optional(person_id.into()))
            },
        )
        .variant(
            "TransitionToAwaitingPartner",
            "awaiting_partner",
            "21Vianet needs something from the partner.",
            optional_reason,
        )
        .variant(
            "TransitionToResolved",
            "resolved",
            "A resolution is given; `reason` is the resolution.",
            |object| object.property("reason", reason()).required("reason"),
        )
        .variant("TransitionToClosed", "closed", "Closed for good.", optional_reason)
        .variant(
            "TransitionToRejected",
            "rejected",
            "Refused by 21Vianet; `misescalation` says whether it was incorrectly escalated.",
            |object| {
                object
                    .property("misescalation", ObjectBuilder::new().schema_type(Type::Boolean))
                    .required("misescalation")
                    .property("reason", reason())
                    .required("reason")
            },
        )
        .variant(
            "TransitionToWithdrawn",
            "withdrawn",
            "Taken back by the partner before work starts.",
            optional_reason,
        )
}

impl utoipa::PartialSchema for TransitionRequest {
    fn schema() -> RefOr<Schema> {
        transition_union()
            .one_of()
            .description(Some("A move to another status, named by `to`, with the fields that move takes."))
            .examples([json!({"to": "in_progress", "engineer": {"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+86 10 5555 0123"}})])
            .into()
    }
}

impl ToSchema for TransitionRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((EngineerInput::name().into_owned(), EngineerInput::schema()));
        schemas.push((Paragraph::name().into_owned(), Paragraph::schema()));
        schemas.extend(transition_union().components());
    }
}

fn missing(field: &'static str, message: Text) -> ApiError {
    ApiError::invalid_fields(vec![FieldError::new(field, "required", message)])
}

fn refused(refusal: Refusal, role: crate::domain::Role) -> ApiError {
    match refusal {
        Refusal::NotAllowed { from, to } => ApiError::invalid_transition(
            "to",
            Text::new("thing-escalation"),
            from.as_str(),
            to.as_str(),
            moves_from(from)
                .into_iter()
                .map(|(to, side)| {
                    Text::new("move-by-side")
                        .with("to", to.as_str())
                        .with("side", side.label())
                        .into()
                })
                .collect(),
        ),
        Refusal::WrongSide { .. } => ApiError::Forbidden {
            role,
            allowed: match role {
                crate::domain::Role::Partner => {
                    vec![crate::domain::Role::Operator, crate::domain::Role::Admin]
                }
                _ => vec![crate::domain::Role::Partner],
            },
        },
        Refusal::ReopenWindowClosed { resolved_at } => ApiError::Conflict {
            code: "reopen_window_closed",
            detail: Text::new("problem-reopen-window-closed")
                .with("resolved_at", resolved_at.to_rfc3339())
                .with("days", REOPEN_WINDOW_DAYS),
            errors: Vec::new(),
        },
    }
}

/// Move an escalation
///
/// Requires `If-Match`: of two moves from the same version, exactly one wins (412 for the other).
/// A move no one may make from the current status is 409 naming the possible ones; a move for the
/// other side (operators or the partner) is 403. Every move is recorded as an event.
#[utoipa::path(
    operation_id = "transitionEscalation",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The escalation's id."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The escalation in its new status.", body = Escalation,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, BodyFailures, ConditionFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[post("/escalations/{id}/transitions")]
#[tracing::instrument(skip_all, fields(escalation_id = %id))]
pub async fn transition_escalation(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<TransitionBody>,
) -> Result<HttpResponse, ApiError> {
    let current = visible(&state, &caller, *id).await?;
    let expected = if_match.check(current.version)?;
    let request = body.0;
    let to = fields::present("to", request.to)?;
    let from = Status::parse(&current.status)
        .ok_or_else(|| ApiError::internal("stored escalation status is unknown"))?;
    let now = Utc::now();
    let side = Side::of(caller.role);
    check_move(from, to, side, current.resolved_at, now)
        .map_err(|refusal| refused(refusal, caller.role))?;
    request.check_fields(to)?;

    let reason = request
        .reason
        .as_deref()
        .map(|text| fields::parsed("reason", text, Paragraph::parse))
        .transpose()?
        .map(Paragraph::into_inner);
    idempotency.claim(&state.db).await?;
    let mut changes: Vec<(Column, SimpleExpr)> = vec![(Column::Status, Expr::value(to.as_str()))];
    let starting_work = (from, to, side) == (Status::Submitted, Status::InProgress, Side::Operator);
    let names_engineer = request.engineer.is_some() || request.engineer_person_id.is_some();
    match (names_engineer, starting_work) {
        (false, true) => {
            return Err(missing(
                "engineer",
                Text::new("field-engineer-required-to-start"),
            ));
        }
        (true, false) if side != Side::Operator => {
            let field = if request.engineer.is_some() {
                "engineer"
            } else {
                "engineer_person_id"
            };
            return Err(ApiError::invalid_fields(vec![FieldError::new(
                field,
                "not_allowed",
                Text::new("field-engineer-by-operators"),
            )]));
        }
        _ => {}
    }
    let engineer_json = match (&request.engineer, request.engineer_person_id) {
        (Some(engineer), _) => {
            let mut engineer = engineer.clone();
            engineer.phone = engineer.phone.map(|phone| {
                crate::domain::PhoneNumber::parse(&phone).map_or(phone, |p| p.into_inner())
            });
            Some(serde_json::to_value(engineer).map_err(ApiError::internal)?)
        }
        (None, Some(person_id)) => {
            let person = engineer_person(&state, person_id).await?;
            changes.push((Column::EngineerPersonId, Expr::value(person.id)));
            Some(
                json!({"name": person.name, "email": person.email, "phone": null, "person_id": person.id}),
            )
        }
        (None, None) => None,
    };
    if let Some(engineer) = &engineer_json {
        changes.push((Column::Engineer, Expr::value(engineer.clone())));
    }
    if to == Status::InProgress && side == Side::Operator && current.first_response_at.is_none() {
        changes.push((Column::FirstResponseAt, Expr::value(now)));
        // Answered: no SLA alert remains to announce.
        changes.push((
            Column::SlaAlertAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        ));
    }
    match to {
        Status::Resolved => {
            changes.push((Column::Resolution, Expr::value(reason.clone())));
            changes.push((Column::ResolvedAt, Expr::value(now)));
        }
        Status::Rejected => {
            changes.push((
                Column::Misescalation,
                Expr::value(request.misescalation.unwrap_or(false)),
            ));
            changes.push((Column::RejectionReason, Expr::value(reason.clone())));
        }
        _ => {}
    }
    if from == Status::Resolved && to == Status::InProgress {
        changes.push((
            Column::ResolvedAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        ));
    }

    let event = EventRecord {
        kind: "status_changed",
        before: Some(json!({"status": from, "engineer": current.engineer})),
        after: Some(json!({
            "status": to,
            "engineer": engineer_json.clone().or(current.engineer.clone()),
            "reason": reason,
            "misescalation": request.misescalation,
        })),
    };
    let actor = caller.0.clone();
    let announce = |row: &store::EscalationRow| {
        let escalation = describe(Escalation::from_row(row.clone(), now))?;
        notice(
            EventType::EscalationStatusChanged,
            Some(row.partner_id),
            StatusChangeData {
                escalation,
                previous_status: from,
            },
        )
    };
    let change = StatusChange {
        expected: &expected,
        changes,
        event,
    };
    let updated = store::transition(&state.db, &state.writes, &current, change, &actor, announce)
        .await
        .map_err(|err| match err {
            TransitionError::Stale => ApiError::PreconditionFailed,
            TransitionError::Duplicate(open) => ApiError::DuplicateEscalation(DuplicateOf {
                id: open.id,
                href: format!("/v1/escalations/{}", open.id),
                number: open.number,
            }),
            TransitionError::Db(err) => err.into(),
        })?;
    tracing::info!(escalation_id = %updated.id, from = %from, to = %to, "escalation moved");
    let escalation = Escalation::from_row(updated, now)?;
    Ok(with_etag(HttpResponse::Ok(), escalation.version).json(escalation))
}
