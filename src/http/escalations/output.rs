//! What escalations look like in answers and webhook payloads, read from their rows. Answers
//! never forbid fields, so clients keep working when a later version adds one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::input_example;
use crate::domain::TimeZoneName;
use crate::domain::escalation::policy::Window;
use crate::domain::escalation::{ContactMethod, Language, Reason, Severity, Status, sla};
use crate::domain::{Category, ServiceKey};
use crate::entity::escalation::Model;
use crate::error::ApiError;
use crate::http::business_calendar::SlaWindow;

/// What the partner tried before escalating.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Troubleshooting {
    /// When the partner last checked service health.
    pub service_health_checked_at: DateTime<Utc>,
    /// Whether the partner tried the service's admin center.
    pub admin_center_attempted: bool,
    /// What the partner did, in order.
    pub steps: Vec<String>,
}

/// The partner's contact for 21Vianet's technician (the partner's, not the customer's).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "first_name": "伟", "last_name": "张", "email": "zhang.wei@cloudbridge.cn", "phone": "+861055550199",
    "preferred_contact_method": "phone", "preferred_language": "zh-Hans", "time_zone": "Asia/Shanghai",
    "available_24x7": true
}))]
pub struct PartnerContact {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// E.164.
    pub phone: Option<String>,
    pub preferred_contact_method: ContactMethod,
    pub preferred_language: Language,
    #[schema(value_type = TimeZoneName)]
    pub time_zone: String,
    /// Reachable around the clock.
    pub available_24x7: bool,
}

/// The 21Vianet technician working on an escalation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+861055550123"}))]
pub struct Engineer {
    pub name: String,
    pub email: String,
    /// E.164.
    pub phone: Option<String>,
    /// When the engineer was assigned as one of 21Vianet's people: their id (see `/v1/people`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<Uuid>,
}

/// The first response clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sla {
    /// The response time of the severity, counted inside `window` from submission (see
    /// `GET /v1/sla/policy`).
    pub response_due_at: DateTime<Utc>,
    /// The support window the clock runs in, as the policy gave it at submission.
    pub window: SlaWindow,
    /// When 21Vianet first responded (the escalation went in progress).
    pub first_response_at: Option<DateTime<Utc>>,
    /// The first response came late, or has not come and is overdue.
    pub breached: bool,
}

/// Set when 21Vianet rejected the escalation as incorrectly escalated.
#[derive(Debug, Serialize, ToSchema)]
pub struct Misescalation {
    pub reason: String,
}

pub fn escalation_example() -> serde_json::Value {
    let mut example = input_example();
    let extra = serde_json::json!({
        "id": "0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
        "number": "ESC-000042",
        "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f",
        "status": "in_progress",
        "engineer": {"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+861055550123"},
        "sla": {"response_due_at": "2026-11-24T06:00:00Z",
            "window": {"days": "daily", "opens": "09:00", "closes": "24:00"},
            "first_response_at": "2026-11-24T03:20:00Z", "breached": false},
        "resolution": null,
        "resolved_at": null,
        "misescalation": null,
        "version": 2,
        "created_at": "2026-11-24T02:00:00Z",
        "updated_at": "2026-11-24T03:20:00Z"
    });
    if let (Some(example), Some(extra)) = (example.as_object_mut(), extra.as_object()) {
        example.extend(extra.clone());
        example["contact"]["phone"] = "+861055550199".into();
    }
    example
}

/// An escalation: what the partner submitted and where 21Vianet's handling of it stands.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = escalation_example)]
pub struct Escalation {
    pub id: Uuid,
    /// Human-readable and unique: `ESC-000042`.
    pub number: String,
    pub partner_id: Uuid,
    pub customer_id: Uuid,
    #[schema(value_type = ServiceKey)]
    pub service_key: String,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub business_impact: String,
    pub problem_started_at: DateTime<Utc>,
    pub reasons: Vec<Reason>,
    pub justification: Option<String>,
    pub troubleshooting: Troubleshooting,
    pub unrelated_incident_ids: Vec<Uuid>,
    pub contact: PartnerContact,
    pub status: Status,
    /// The technician assigned when work started.
    pub engineer: Option<Engineer>,
    pub sla: Sla,
    /// What resolved it.
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub misescalation: Option<Misescalation>,
    /// Increases with every change; the `ETag` is this number in quotes.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Escalation {
    pub fn from_row(row: Model, now: DateTime<Utc>) -> Result<Self, ApiError> {
        let corrupt = |what: &str| {
            ApiError::internal(format!(
                "stored escalation {} has an unreadable {what}",
                row.number
            ))
        };
        fn json<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Option<T> {
            serde_json::from_value(value.clone()).ok()
        }
        let rejected = Status::parse(&row.status) == Some(Status::Rejected);
        Ok(Escalation {
            category: Category::parse(&row.category).ok_or_else(|| corrupt("category"))?,
            severity: Severity::parse(&row.severity).ok_or_else(|| corrupt("severity"))?,
            status: Status::parse(&row.status).ok_or_else(|| corrupt("status"))?,
            reasons: json(&row.reasons).ok_or_else(|| corrupt("reasons"))?,
            troubleshooting: json(&row.troubleshooting)
                .ok_or_else(|| corrupt("troubleshooting"))?,
            unrelated_incident_ids: json(&row.unrelated_incident_ids)
                .ok_or_else(|| corrupt("unrelated_incident_ids"))?,
            contact: json(&row.contact).ok_or_else(|| corrupt("contact"))?,
            engineer: row
                .engineer
                .as_ref()
                .map(|value| json(value).ok_or_else(|| corrupt("engineer")))
                .transpose()?,
            sla: Sla {
                response_due_at: row.response_due_at,
                window: row
                    .sla_window
                    .parse::<Window>()
                    .map_err(|_| corrupt("SLA window"))?
                    .into(),
                first_response_at: row.first_response_at,
                breached: sla::breached(row.response_due_at, row.first_response_at, now),
            },
            misescalation: (rejected && row.misescalation).then(|| Misescalation {
                reason: row.rejection_reason.clone().unwrap_or_default(),
            }),
            id: row.id,
            number: row.number,
            partner_id: row.partner_id,
            customer_id: row.customer_id,
            service_key: row.service_key,
            title: row.title,
            description: row.description,
            business_impact: row.business_impact,
            problem_started_at: row.problem_started_at,
            justification: row.justification,
            resolution: row.resolution,
            resolved_at: row.resolved_at,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}
