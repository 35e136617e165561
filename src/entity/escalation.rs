use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "escalations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    /// The number as an integer, drawn when the row is inserted.
    pub seq: i64,
    pub partner_id: Uuid,
    pub customer_id: Uuid,
    pub service_key: String,
    pub category: String,
    pub severity: String,
    pub title: String,
    pub description: String,
    pub business_impact: String,
    pub problem_started_at: DateTimeUtc,
    #[sea_orm(column_type = "JsonBinary")]
    pub reasons: Json,
    pub justification: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub troubleshooting: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub unrelated_incident_ids: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub contact: Json,
    /// `contact.preferred_language`, in a column of its own for the triage queue's filter.
    pub contact_language: String,
    pub status: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub engineer: Option<Json>,
    pub engineer_person_id: Option<Uuid>,
    pub response_due_at: DateTimeUtc,
    /// The support window the SLA clock runs in, as the policy gave it at submission
    /// (`24x7`, `daily 09:00-24:00`, `business_days 09:00-18:00`).
    pub sla_window: String,
    pub first_response_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub misescalation: bool,
    pub rejection_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    /// When the next SLA alert (the warning, then the breach) is due; `None` once none remains.
    pub sla_alert_at: Option<DateTimeUtc>,
    pub sla_warning_announced_at: Option<DateTimeUtc>,
    pub sla_breach_announced_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
