//! What escalation requests and answers look like on the wire, and how they map to the domain
//! and to rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use uuid::Uuid;
use validator::Validate;

use crate::domain::escalation::criteria::{ContactFacts, Proposal};
use crate::domain::escalation::{ContactMethod, Language, Reason, Severity, Status, sla};
use crate::domain::{
    Category, DisplayName, EmailAddress, Paragraph, PhoneNumber, ServiceKey, Title,
};
use crate::entity::escalation::Model;
use crate::error::ApiError;
use crate::http::fields;

/// The default `time_zone` of a partner contact.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// An IANA time zone name, such as `Asia/Shanghai`.
pub struct TimeZoneName;

impl utoipa::PartialSchema for TimeZoneName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("An IANA time zone name."))
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
            .examples([serde_json::json!(DEFAULT_TIME_ZONE)])
            .into()
    }
}

impl utoipa::ToSchema for TimeZoneName {}

fn valid_time_zone(value: &str) -> Result<(), validator::ValidationError> {
    value.parse::<chrono_tz::Tz>().map(drop).map_err(|_| {
        validator::ValidationError::new("invalid_time_zone").with_message(
            std::borrow::Cow::Borrowed("must be an IANA time zone name such as Asia/Shanghai"),
        )
    })
}

/// What the partner tried before escalating.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Troubleshooting {
    /// When the partner last checked service health; must be within the last 24 hours.
    pub service_health_checked_at: Option<DateTime<Utc>>,
    /// Whether the partner tried the service's admin center.
    pub admin_center_attempted: Option<bool>,
    /// What the partner did, in order; at least one.
    #[validate(length(max = 50), custom(function = "valid_steps"))]
    #[schema(value_type = Option<Vec<Title>>, max_items = 50)]
    pub steps: Option<Vec<String>>,
}

fn valid_steps(steps: &[String]) -> Result<(), validator::ValidationError> {
    steps.iter().try_for_each(|step| fields::title(step))
}

/// The partner's contact for 21Vianet's technician (the partner's, not the customer's).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "伟", "last_name": "张", "email": "zhang.wei@cloudbridge.cn", "phone": "+86 10 5555 0199",
    "preferred_contact_method": "phone", "preferred_language": "zh-hans", "time_zone": "Asia/Shanghai",
    "available_24x7": true
}))]
pub struct PartnerContact {
    #[validate(custom(function = "fields::display_name"))]
    #[schema(value_type = Option<DisplayName>)]
    pub first_name: Option<String>,
    #[validate(custom(function = "fields::display_name"))]
    #[schema(value_type = Option<DisplayName>)]
    pub last_name: Option<String>,
    #[validate(custom(function = "fields::email"))]
    #[schema(value_type = Option<EmailAddress>)]
    pub email: Option<String>,
    /// Required when the preferred method is phone, and for critical escalations.
    #[validate(custom(function = "fields::phone"))]
    #[schema(value_type = Option<PhoneNumber>)]
    pub phone: Option<String>,
    pub preferred_contact_method: Option<ContactMethod>,
    /// Default `zh-hans`.
    pub preferred_language: Option<Language>,
    /// Default `Asia/Shanghai`.
    #[validate(custom(function = "valid_time_zone"))]
    #[schema(value_type = Option<TimeZoneName>)]
    pub time_zone: Option<String>,
    /// Reachable around the clock (needed for critical escalations); default false.
    pub available_24x7: Option<bool>,
}

impl PartnerContact {
    /// With defaults filled in and the phone in E.164 form, as stored.
    fn normalised(mut self) -> Self {
        self.phone = self
            .phone
            .map(|phone| PhoneNumber::parse(&phone).map_or(phone, PhoneNumber::into_inner));
        self.first_name = self.first_name.map(|name| name.trim().to_owned());
        self.last_name = self.last_name.map(|name| name.trim().to_owned());
        self.preferred_language
            .get_or_insert(Language::SimplifiedChinese);
        self.time_zone
            .get_or_insert_with(|| DEFAULT_TIME_ZONE.to_owned());
        self.available_24x7.get_or_insert(false);
        self
    }

    fn facts(&self) -> ContactFacts {
        ContactFacts {
            first_name: self.first_name.is_some(),
            last_name: self.last_name.is_some(),
            email: self.email.is_some(),
            phone: self.phone.is_some(),
            method: self.preferred_contact_method,
            available_24x7: self.available_24x7.unwrap_or(false),
        }
    }
}

/// A list of distinct items, or `null` (the same as absent).
fn distinct_list(items: RefOr<Schema>, max: usize, description: &str) -> OneOfBuilder {
    OneOfBuilder::new()
        .item(
            ArrayBuilder::new()
                .items(items)
                .max_items(Some(max))
                .unique_items(true)
                .description(Some(description)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
}

fn reason_set() -> OneOfBuilder {
    distinct_list(
        Ref::from_schema_name(Reason::name()).into(),
        Reason::ALL.len(),
        "Why the partner cannot solve it: at least one, none twice.",
    )
}

fn incident_id_set() -> OneOfBuilder {
    let uuid = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
    distinct_list(
        uuid.into(),
        50,
        "Open incidents on the service the problem has nothing to do with, each named once.",
    )
}

pub(super) fn input_example() -> serde_json::Value {
    serde_json::json!({
        "customer_id": "0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
        "service_key": "microsoft-365",
        "category": "service_unavailable",
        "severity": "moderate",
        "title": "Exchange Online 邮件无法投递到外部域",
        "description": "自 09:10 起，全部用户发往外部域的邮件停留在队列中，退信代码 4.4.7。",
        "business_impact": "300 名员工无法与客户和供应商通信，订单确认邮件全部延迟。",
        "problem_started_at": "2026-11-24T01:10:00Z",
        "reasons": ["lacks_support_tools"],
        "justification": "需要 21Vianet 的传输日志才能确定邮件在服务端被阻塞的原因，合作伙伴无权访问这些日志。",
        "troubleshooting": {
            "service_health_checked_at": "2026-11-24T01:40:00Z",
            "admin_center_attempted": true,
            "steps": ["在管理中心运行了邮件流诊断", "确认 MX 与 SPF 记录正确", "用测试账号重现了问题"]
        },
        "unrelated_incident_ids": [],
        "contact": {
            "first_name": "伟", "last_name": "张", "email": "zhang.wei@cloudbridge.cn",
            "phone": "+86 10 5555 0199", "preferred_contact_method": "phone",
            "preferred_language": "zh-hans", "time_zone": "Asia/Shanghai", "available_24x7": true
        }
    })
}

/// An escalation as the partner submits it (also the body of `validate`).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = input_example)]
pub struct EscalationInput {
    /// One of the partner's customers (404 otherwise).
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub customer_id: Option<Uuid>,
    #[validate(required, custom(function = "fields::service_key"))]
    #[schema(value_type = ServiceKey, required = true)]
    pub service_key: Option<String>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub category: Option<Category>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub severity: Option<Severity>,
    #[validate(required, custom(function = "fields::title"))]
    #[schema(value_type = Title, required = true)]
    pub title: Option<String>,
    #[validate(required, custom(function = "fields::paragraph"))]
    #[schema(value_type = Paragraph, required = true)]
    pub description: Option<String>,
    /// Who is affected and how.
    #[validate(required, custom(function = "fields::paragraph"))]
    #[schema(value_type = Paragraph, required = true)]
    pub business_impact: Option<String>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub problem_started_at: Option<DateTime<Utc>>,
    #[validate(length(max = 3), custom(function = "fields::distinct"))]
    #[schema(schema_with = reason_set)]
    pub reasons: Option<Vec<Reason>>,
    /// Why the partner cannot solve the problem itself, in at least 20 characters.
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub justification: Option<String>,
    #[validate(required, nested)]
    #[schema(required = true, nullable = false)]
    pub troubleshooting: Option<Troubleshooting>,
    #[validate(length(max = 50), custom(function = "fields::distinct"))]
    #[schema(schema_with = incident_id_set)]
    pub unrelated_incident_ids: Option<Vec<Uuid>>,
    #[validate(required, nested)]
    #[schema(required = true, nullable = false)]
    pub contact: Option<PartnerContact>,
}

/// The input once its shape is checked: every required field present.
#[derive(Debug, Clone)]
pub struct Submission {
    pub customer_id: Uuid,
    pub service_key: ServiceKey,
    pub category: Category,
    pub severity: Severity,
    pub title: Title,
    pub description: Paragraph,
    pub business_impact: Paragraph,
    pub problem_started_at: DateTime<Utc>,
    pub reasons: Vec<Reason>,
    pub justification: Option<String>,
    pub troubleshooting: Troubleshooting,
    pub unrelated_incident_ids: Vec<Uuid>,
    pub contact: PartnerContact,
}

impl EscalationInput {
    pub fn into_submission(self) -> Result<Submission, ApiError> {
        use fields::{parsed, present};
        let service_key = present("service_key", self.service_key)?;
        let title = present("title", self.title)?;
        let description = present("description", self.description)?;
        let business_impact = present("business_impact", self.business_impact)?;
        Ok(Submission {
            customer_id: present("customer_id", self.customer_id)?,
            service_key: parsed("service_key", &service_key, ServiceKey::parse)?,
            category: present("category", self.category)?,
            severity: present("severity", self.severity)?,
            title: parsed("title", &title, Title::parse)?,
            description: parsed("description", &description, Paragraph::parse)?,
            business_impact: parsed("business_impact", &business_impact, Paragraph::parse)?,
            problem_started_at: present("problem_started_at", self.problem_started_at)?,
            reasons: self.reasons.unwrap_or_default(),
            justification: self
                .justification
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty()),
            troubleshooting: present("troubleshooting", self.troubleshooting)?,
            unrelated_incident_ids: self.unrelated_incident_ids.unwrap_or_default(),
            contact: present("contact", self.contact)?.normalised(),
        })
    }
}

impl Submission {
    /// What the criteria judge.
    pub fn proposal(&self) -> Proposal {
        Proposal {
            category: self.category,
            severity: self.severity,
            reasons: self.reasons.clone(),
            justification: self.justification.clone(),
            admin_center_attempted: self.troubleshooting.admin_center_attempted.unwrap_or(false),
            troubleshooting_steps: self.troubleshooting.steps.as_ref().map_or(0, Vec::len),
            service_health_checked_at: self.troubleshooting.service_health_checked_at,
            unrelated_incident_ids: self.unrelated_incident_ids.clone(),
            contact: self.contact.facts(),
        }
    }
}

/// The 21Vianet technician working on an escalation.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+86 10 5555 0123"}))]
pub struct Engineer {
    #[validate(required, custom(function = "fields::display_name"))]
    #[schema(value_type = DisplayName, required = true)]
    pub name: Option<String>,
    #[validate(required, custom(function = "fields::email"))]
    #[schema(value_type = EmailAddress, required = true)]
    pub email: Option<String>,
    #[validate(custom(function = "fields::phone"))]
    #[schema(value_type = Option<PhoneNumber>)]
    pub phone: Option<String>,
}

/// The first response clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sla {
    /// Critical: 2 hours around the clock; moderate 4 and minimal 8 business hours (09:00–18:00
    /// Beijing time, Monday to Friday).
    pub response_due_at: DateTime<Utc>,
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

pub(super) fn escalation_example() -> serde_json::Value {
    let mut example = input_example();
    let extra = serde_json::json!({
        "id": "0193a1f6-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
        "number": "ESC-000042",
        "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f",
        "status": "in_progress",
        "engineer": {"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+861055550123"},
        "sla": {"response_due_at": "2026-11-24T06:00:00Z", "first_response_at": "2026-11-24T03:20:00Z", "breached": false},
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
