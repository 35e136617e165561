//! Submitting an escalation, and the dry run that shows the checklist.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::TAG;
use super::input::{EscalationInput, Submission, input_example, input_example_in_english};
use super::output::{Escalation, escalation_example};
use crate::domain::escalation::criteria::{
    Check, Criterion, CustomerFacts, EscalationCriteria, Evaluation, Facts, PartnerFacts,
    ServiceFacts,
};
use crate::domain::escalation::policy::ProblemKind;
use crate::domain::remediation::today_in_beijing;
use crate::domain::webhook::EventType;
use crate::domain::{Category, PartnerStatus, SubscriptionStatus, SupportPlan};
use crate::error::{ApiError, DuplicateOf, FieldError, Violation};
use crate::http::AppState;
use crate::http::auth::{Caller, PartnerOnly};
use crate::http::etag::with_etag;
use crate::http::event_data::EscalationData;
use crate::http::extract::ValidJson;
use crate::http::idempotency::Idempotency;
use crate::http::responses::*;
use crate::http::webhooks::{describe, notice};
use crate::i18n::{Language, Text};
use crate::store::criteria;
use crate::store::escalations::{self as store, Created, NewEscalation};
use crate::store::webhooks::Notice;

/// Whether a criterion is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
}

/// One criterion's outcome in a dry run.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionCheck {
    pub criterion: Criterion,
    pub outcome: Outcome,
    pub message: String,
}

/// The checklist: whether the escalation would be accepted, every criterion's outcome, and when
/// 21Vianet's first response would be due if it were submitted now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "eligible": false,
    "response_due_at": "2026-10-08T03:00:00Z",
    "checks": [
        {"criterion": "customer_relationship", "outcome": "passed", "message": "the customer is yours"},
        {"criterion": "partner_troubleshooting", "outcome": "failed",
         "message": "check service health again: the last check is more than 24 hours old"}
    ]
}))]
pub struct ValidationReport {
    pub eligible: bool,
    /// When the first response would be due for a submission now, in the support window of its
    /// severity and kind of problem (see `GET /v1/sla/policy`).
    pub response_due_at: DateTime<Utc>,
    pub checks: Vec<CriterionCheck>,
}

/// Everything the criteria need to know, read from the database (see `store::criteria`), and
/// whether the partner has an enabled webhook endpoint that may want to hear of the escalation.
async fn gather_facts(
    state: &AppState,
    partner_id: uuid::Uuid,
    submission: &Submission,
) -> Result<(Facts, bool), ApiError> {
    let about = criteria::About {
        partner_id,
        customer_id: submission.customer_id,
        service_key: submission.service_key.as_str(),
        category: submission.category,
        today: today_in_beijing(Utc::now()),
    };
    let (row, active_incidents) = criteria::facts(&state.db, about)
        .await?
        .ok_or_else(|| ApiError::internal("partner key for a missing partner"))?;
    let customer = row.customer_tenant_id.map(|tenant_id| CustomerFacts {
        tenant_id,
        support_plan: row
            .customer_support_plan
            .as_deref()
            .and_then(SupportPlan::parse)
            .unwrap_or(SupportPlan::Standard),
    });
    let service = match (row.service_operated_by, row.service_first_party) {
        (Some(operated_by), Some(first_party)) => Some(ServiceFacts {
            categories: row
                .service_categories
                .and_then(|categories| serde_json::from_value::<Vec<Category>>(categories).ok())
                .unwrap_or_default(),
            operated_by,
            first_party,
        }),
        _ => None,
    };
    let listened = row.enabled_endpoints > 0;
    let facts = Facts {
        customer,
        partner: PartnerFacts {
            tenant_id: row.partner_tenant_id,
            status: PartnerStatus::parse(&row.partner_status).unwrap_or(PartnerStatus::Suspended),
            overdue_remediation_plans: usize::try_from(row.overdue_plans).unwrap_or(usize::MAX),
        },
        service,
        subscription: row
            .subscription_status
            .as_deref()
            .and_then(SubscriptionStatus::parse),
        active_incidents,
        open_duplicate: row.duplicate_number,
        highest_severity: state
            .sla
            .policy()
            .highest_severity(ProblemKind::of(submission.category)),
    };
    Ok((facts, listened))
}

fn duplicate_of(row: &store::EscalationRow) -> DuplicateOf {
    DuplicateOf {
        id: row.id,
        number: row.number.clone(),
        href: format!("/v1/escalations/{}", row.id),
    }
}

/// The refusal an evaluation calls for: 404 for someone else's customer, or 422 listing every
/// failed criterion. `None` when it may go on to be stored.
fn refusal(evaluation: &Evaluation) -> Option<ApiError> {
    if !evaluation.passed(Criterion::CustomerRelationship) {
        return Some(ApiError::not_found("customer"));
    }
    let failed: Vec<&Check> = evaluation.failed().collect();
    if failed
        .iter()
        .all(|check| check.criterion == Criterion::NoDuplicate)
    {
        // Only a duplicate: the open-escalation index decides, and the store points to the
        // winner (or creates, if the other one closed meanwhile).
        return None;
    }
    Some(ApiError::CriteriaNotMet(
        failed
            .into_iter()
            .map(|check| Violation {
                criterion: check.criterion,
                message: check.message.clone(),
            })
            .collect(),
    ))
}

/// Submit an escalation
///
/// The partner raises a problem with a customer's service to 21Vianet. The body is checked for
/// shape first (every bad field listed), then against all twelve escalation criteria: another
/// partner's or an unknown customer is 404, failed criteria are 422 listing every one, and an
/// open escalation for the same customer, service and category is 409 pointing to it.
#[utoipa::path(
    operation_id = "createEscalation",
    tag = TAG,
    request_body(content = EscalationInput, examples(
        ("zh-Hans" = (summary = "In Chinese, to be contacted in Chinese by phone", value = json!(input_example()))),
        ("en" = (summary = "In English, to be contacted in English by email", value = json!(input_example_in_english()))),
    )),
    responses(
        (status = 201, description = "Submitted; the SLA clock runs.", body = Escalation,
            headers(("Location" = String, description = "URL of the new escalation."),
                    ("ETag" = String, description = "Version tag for `If-Match`.")),
            example = json!(escalation_submitted_example())),
        ReadFailures,
        (status = 403, response = Forbidden),
        (status = 409, description = "An escalation for the same customer, service and category is already open.",
            body = crate::error::Problem, content_type = "application/problem+json",
            example = json!({
                "type": "urn:escalade:problem:duplicate_escalation", "title": "Conflict", "status": 409,
                "detail": "ESC-000042 is already open for this customer, service and category",
                "instance": "/v1/escalations", "code": "duplicate_escalation",
                "duplicate_of": {"id": "0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f", "number": "ESC-000042",
                                 "href": "/v1/escalations/0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f"}
            })),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "Invalid fields (`errors`), or escalation criteria not met (`violations`, every failed one). \
The codes are the same in every language; `title`, `detail` and each `message` come in the answer's language.",
            body = crate::error::Problem, content_type = "application/problem+json",
            examples(
                ("criteria_not_met (en)" = (summary = "Criteria not met, in English",
                    value = json!(refusal_examples(Language::English)[1]))),
                ("criteria_not_met (zh-Hans)" = (summary = "Criteria not met, in Chinese",
                    value = json!(refusal_examples(Language::SimplifiedChinese)[1]))),
                ("validation_failed (en)" = (summary = "Invalid fields, in English",
                    value = json!(refusal_examples(Language::English)[0]))),
                ("validation_failed (zh-Hans)" = (summary = "Invalid fields, in Chinese",
                    value = json!(refusal_examples(Language::SimplifiedChinese)[0]))),
            )),
    ),
)]
#[post("/escalations")]
#[tracing::instrument(skip_all)]
pub async fn create_escalation(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    body: ValidJson<EscalationInput>,
) -> Result<HttpResponse, ApiError> {
    let partner_id = caller
        .partner_id
        .ok_or_else(|| ApiError::internal("partner key without partner"))?;
    let submission = body.0.into_submission()?;
    let now = Utc::now();
    let (facts, listened) = gather_facts(&state, partner_id, &submission).await?;
    let evaluation = EscalationCriteria::evaluate(&submission.proposal(), &facts, now);
    if let Some(refused) = refusal(&evaluation) {
        return Err(refused);
    }
    idempotency.claim(&state.db).await?;
    let new = new_escalation(partner_id, submission)?;
    let actor = caller.0.clone();
    let snapshot = |row: &store::EscalationRow| {
        serde_json::json!({
            "number": row.number, "status": row.status, "severity": row.severity, "category": row.category,
            "service_key": row.service_key, "customer_id": row.customer_id, "response_due_at": row.response_due_at
        })
    };
    let announce = |row: &store::EscalationRow| {
        let escalation = describe(Escalation::from_row(row.clone(), now))?;
        Ok(Notice {
            may_be_heard: listened,
            ..notice(
                EventType::EscalationCreated,
                Some(row.partner_id),
                EscalationData { escalation },
            )?
        })
    };
    let created = store::create(
        &state.db,
        &state.writes,
        &state.sla,
        new,
        &actor,
        snapshot,
        announce,
    );
    let row = match created.await? {
        Created::New(row) => row,
        Created::Duplicate(open) => return Err(ApiError::DuplicateEscalation(duplicate_of(&open))),
    };
    tracing::info!(escalation_id = %row.id, number = %row.number, "escalation submitted");
    let escalation = Escalation::from_row(row, now)?;
    let mut response = with_etag(HttpResponse::Created(), escalation.version);
    response.insert_header((LOCATION, format!("/v1/escalations/{}", escalation.id)));
    Ok(response.json(escalation))
}

/// The two kinds of 422 a submission can get, in `language`, as the catalogue words them.
fn refusal_examples(language: Language) -> [serde_json::Value; 2] {
    let invalid_fields = ApiError::invalid_fields(vec![
        FieldError::new("title", "required", Text::new("field-required")),
        FieldError::new("contact.email", "invalid_email", Text::new("invalid-email")),
    ]);
    let criteria_not_met = ApiError::CriteriaNotMet(vec![
        Violation {
            criterion: Criterion::EscalatableCategory,
            message: Text::new("criterion-category-partner-work")
                .with("category", Category::HowTo.as_str()),
        },
        Violation {
            criterion: Criterion::PartnerTroubleshooting,
            message: Text::new("criterion-health-check-stale"),
        },
    ]);
    [invalid_fields, criteria_not_met].map(|refusal| {
        serde_json::to_value(refusal.problem(language, Some("/v1/escalations".to_owned())))
            .unwrap_or_default()
    })
}

fn escalation_submitted_example() -> serde_json::Value {
    let mut example = escalation_example();
    example["status"] = "submitted".into();
    example["engineer"] = serde_json::Value::Null;
    example["sla"]["first_response_at"] = serde_json::Value::Null;
    example["version"] = 1.into();
    example
}

fn new_escalation(
    partner_id: uuid::Uuid,
    submission: Submission,
) -> Result<NewEscalation, ApiError> {
    let to_json = |value: serde_json::Result<serde_json::Value>| value.map_err(ApiError::internal);
    Ok(NewEscalation {
        partner_id,
        customer_id: submission.customer_id,
        service_key: submission.service_key.into_inner(),
        category: submission.category,
        severity: submission.severity,
        title: submission.title.into_inner(),
        description: submission.description.into_inner(),
        business_impact: submission.business_impact.into_inner(),
        problem_started_at: submission.problem_started_at,
        reasons: to_json(serde_json::to_value(&submission.reasons))?,
        justification: submission.justification,
        troubleshooting: to_json(serde_json::to_value(&submission.troubleshooting))?,
        unrelated_incident_ids: to_json(serde_json::to_value(&submission.unrelated_incident_ids))?,
        contact_language: submission
            .contact
            .preferred_language
            .unwrap_or(Language::SimplifiedChinese),
        contact: to_json(serde_json::to_value(&submission.contact))?,
    })
}

/// Check an escalation without submitting it
///
/// The same input and evaluation as submitting, with nothing written: every criterion's outcome,
/// for a checklist that updates as the partner types. Shape errors are still 422.
#[utoipa::path(
    operation_id = "validateEscalation",
    tag = TAG,
    request_body = EscalationInput,
    responses(
        (status = 200, description = "Every criterion's outcome.", body = ValidationReport),
        RequestFailures, BodyFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/escalations/validate")]
#[tracing::instrument(skip_all)]
pub async fn validate_escalation(
    caller: Caller<PartnerOnly>,
    language: Language,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    body: ValidJson<EscalationInput>,
) -> Result<HttpResponse, ApiError> {
    let partner_id = caller
        .partner_id
        .ok_or_else(|| ApiError::internal("partner key without partner"))?;
    let submission = body.0.into_submission()?;
    let (facts, _) = gather_facts(&state, partner_id, &submission).await?;
    let now = Utc::now();
    let evaluation = EscalationCriteria::evaluate(&submission.proposal(), &facts, now);
    idempotency.claim(&state.db).await?;
    Ok(HttpResponse::Ok().json(ValidationReport {
        eligible: evaluation.eligible(),
        response_due_at: state.sla.response_due_at(
            submission.severity,
            ProblemKind::of(submission.category),
            now,
        ),
        checks: evaluation
            .checks
            .into_iter()
            .map(|check| CriterionCheck {
                criterion: check.criterion,
                outcome: if check.passed {
                    Outcome::Passed
                } else {
                    Outcome::Failed
                },
                message: check.message.render(language),
            })
            .collect(),
    }))
}
