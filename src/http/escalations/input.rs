//! What partners and operators send about escalations, checked for shape (every broken field
//! reported at once) and turned into what the criteria judge.

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
use crate::domain::escalation::{ContactMethod, Language, Reason, Severity};
use crate::domain::{
    Category, DisplayName, EmailAddress, Paragraph, PhoneNumber, ServiceKey, TimeZoneName, Title,
};
use crate::error::ApiError;
use crate::http::fields;

/// The default `time_zone` of a partner contact.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// What the partner tried before escalating, as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TroubleshootingInput {
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

/// The partner's contact for 21Vianet's technician (the partner's, not the customer's), as sent.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "伟", "last_name": "张", "email": "zhang.wei@cloudbridge.cn", "phone": "+86 10 5555 0199",
    "preferred_contact_method": "phone", "preferred_language": "zh-Hans", "time_zone": "Asia/Shanghai",
    "available_24x7": true
}))]
pub struct PartnerContactInput {
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
    /// Default `zh-Hans`.
    pub preferred_language: Option<Language>,
    /// Default `Asia/Shanghai`.
    #[validate(custom(function = "fields::time_zone"))]
    #[schema(value_type = Option<TimeZoneName>)]
    pub time_zone: Option<String>,
    /// Reachable around the clock (needed for critical escalations); default false.
    pub available_24x7: Option<bool>,
}

impl PartnerContactInput {
    /// With defaults filled in, and the phone and time zone in their canonical forms, as
    /// stored.
    fn normalised(mut self) -> Self {
        self.phone = self
            .phone
            .map(|phone| PhoneNumber::parse(&phone).map_or(phone, PhoneNumber::into_inner));
        self.first_name = self.first_name.map(|name| name.trim().to_owned());
        self.last_name = self.last_name.map(|name| name.trim().to_owned());
        self.preferred_language
            .get_or_insert(Language::SimplifiedChinese);
        self.time_zone = Some(self.time_zone.map_or_else(
            || DEFAULT_TIME_ZONE.to_owned(),
            |zone| TimeZoneName::parse(&zone).map_or(zone, TimeZoneName::into_inner),
        ));
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

/// The escalation `input_example` gives, as an English-speaking partner writes it.
pub(super) fn input_example_in_english() -> serde_json::Value {
    let mut example = input_example();
    example["title"] = "Exchange Online cannot deliver mail to external domains".into();
    example["description"] = "Since 09:10 every user's mail to external domains stays queued; \
        the non-delivery code is 4.4.7."
        .into();
    example["business_impact"] = "300 employees cannot reach customers and suppliers; every \
        order confirmation is delayed."
        .into();
    example["justification"] = "Only 21Vianet's transport logs can show why the service holds \
        the mail; partners have no access to them."
        .into();
    example["troubleshooting"]["steps"] = serde_json::json!([
        "Ran the mail flow diagnostics in the admin center",
        "Checked that the MX and SPF records are right",
        "Reproduced the problem with a test account"
    ]);
    example["contact"] = serde_json::json!({
        "first_name": "Wei", "last_name": "Zhang", "email": "zhang.wei@cloudbridge.cn",
        "phone": "+86 10 5555 0199", "preferred_contact_method": "email",
        "preferred_language": "en", "time_zone": "Asia/Shanghai", "available_24x7": false
    });
    example
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
            "preferred_language": "zh-Hans", "time_zone": "Asia/Shanghai", "available_24x7": true
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
    pub troubleshooting: Option<TroubleshootingInput>,
    #[validate(length(max = 50), custom(function = "fields::distinct"))]
    #[schema(schema_with = incident_id_set)]
    pub unrelated_incident_ids: Option<Vec<Uuid>>,
    #[validate(required, nested)]
    #[schema(required = true, nullable = false)]
    pub contact: Option<PartnerContactInput>,
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
    pub troubleshooting: TroubleshootingInput,
    pub unrelated_incident_ids: Vec<Uuid>,
    pub contact: PartnerContactInput,
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

/// The 21Vianet technician who takes an escalation on, as an operator assigns them.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+86 10 5555 0123"}))]
pub struct EngineerInput {
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
