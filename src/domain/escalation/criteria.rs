//! The 21Vianet escalation criteria. `EscalationCriteria::evaluate` judges a proposed escalation
//! against all twelve at once, from facts the caller gathered; nothing here touches HTTP or the
//! database, so every boundary is unit-tested below.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::deflection::OPERATOR;
use super::super::plans::vocabulary;
use super::{ContactMethod, Reason, Severity};
use crate::domain::{Category, PartnerStatus, SubscriptionStatus, SupportPlan};

/// The stable code of each criterion.
///
/// `customer_relationship`: the customer belongs to the calling partner.
/// `not_partner_tenant`: the customer is not the partner's own tenant.
/// `service_escalatable`: the service exists, is operated by 21Vianet and is first-party.
/// `active_subscription`: the customer has an active subscription to the service.
/// `escalatable_category`: the category is one 21Vianet handles and the service accepts.
/// `reason_given`: at least one reason and a real justification.
/// `partner_troubleshooting`: admin center attempted, a troubleshooting step, service health
/// checked within the last 24 hours.
/// `no_active_incident`: no unresolved incident on the service, or each is named unrelated.
/// `severity_entitlement`: `critical` only for a premium customer with a 24×7 contact reachable
/// by phone.
/// `contact_complete`: the partner contact is complete, with a phone number when the method is
/// phone.
/// `no_duplicate`: no open escalation for the same customer, service and category.
/// `partner_in_good_standing`: the partner is active with no remediation plan unanswered past
/// its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    CustomerRelationship,
    NotPartnerTenant,
    ServiceEscalatable,
    ActiveSubscription,
    EscalatableCategory,
    ReasonGiven,
    PartnerTroubleshooting,
    NoActiveIncident,
    SeverityEntitlement,
    ContactComplete,
    NoDuplicate,
    PartnerInGoodStanding,
}

vocabulary!(Criterion {
    CustomerRelationship => "customer_relationship",
    NotPartnerTenant => "not_partner_tenant",
    ServiceEscalatable => "service_escalatable",
    ActiveSubscription => "active_subscription",
    EscalatableCategory => "escalatable_category",
    ReasonGiven => "reason_given",
    PartnerTroubleshooting => "partner_troubleshooting",
    NoActiveIncident => "no_active_incident",
    SeverityEntitlement => "severity_entitlement",
    ContactComplete => "contact_complete",
    NoDuplicate => "no_duplicate",
    PartnerInGoodStanding => "partner_in_good_standing",
});

/// How long a service health check stays valid.
pub const HEALTH_CHECK_WINDOW: Duration = Duration::hours(24);
/// Clock skew tolerated for a health check time that lies slightly ahead.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);
/// A justification says why the partner cannot solve the problem, in at least this many
/// characters (Chinese characters count one each)...
pub const MIN_JUSTIFICATION_CHARS: usize = 20;
/// ...of which at least this many differ, so padding does not pass.
pub const MIN_DISTINCT_CHARS: usize = 8;

/// What the partner proposes, reduced to what the criteria judge.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub category: Category,
    pub severity: Severity,
    pub reasons: Vec<Reason>,
    pub justification: Option<String>,
    pub admin_center_attempted: bool,
    pub troubleshooting_steps: usize,
    pub service_health_checked_at: Option<DateTime<Utc>>,
    pub unrelated_incident_ids: Vec<Uuid>,
    pub contact: ContactFacts,
}

/// Which parts of the partner contact are given.
#[derive(Debug, Clone, Copy)]
pub struct ContactFacts {
    pub first_name: bool,
    pub last_name: bool,
    pub email: bool,
    pub phone: bool,
    pub method: Option<ContactMethod>,
    pub available_24x7: bool,
}

#[derive(Debug, Clone)]
pub struct CustomerFacts {
    pub tenant_id: Uuid,
    pub support_plan: SupportPlan,
}

#[derive(Debug, Clone)]
pub struct PartnerFacts {
    pub tenant_id: Uuid,
    pub status: PartnerStatus,
    /// Remediation plans still `requested` after their `respond_by` date.
    pub overdue_remediation_plans: usize,
}

#[derive(Debug, Clone)]
pub struct ServiceFacts {
    pub operated_by: String,
    pub first_party: bool,
    pub categories: Vec<Category>,
}

/// What the world looks like for this proposal.
#[derive(Debug, Clone)]
pub struct Facts {
    /// `None` when the customer does not exist or belongs to another partner.
    pub customer: Option<CustomerFacts>,
    pub partner: PartnerFacts,
    /// `None` when the service is not in the catalog.
    pub service: Option<ServiceFacts>,
    /// The customer's live subscription to the service.
    pub subscription: Option<SubscriptionStatus>,
    /// Unresolved incidents on the service.
    pub active_incidents: Vec<Uuid>,
    /// The number of an open escalation for the same customer, service and category.
    pub open_duplicate: Option<String>,
}

/// One criterion's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub criterion: Criterion,
    pub passed: bool,
    pub message: String,
}

/// Every criterion's outcome, in the order of the table in DESIGN.md.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub checks: Vec<Check>,
}

impl Evaluation {
    pub fn eligible(&self) -> bool {
        self.checks.iter().all(|check| check.passed)
    }

    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|check| !check.passed)
    }

    pub fn passed(&self, criterion: Criterion) -> bool {
        self.checks
            .iter()
            .any(|check| check.criterion == criterion && check.passed)
    }
}

fn check(criterion: Criterion, passed: bool, message: impl Into<String>) -> Check {
    Check {
        criterion,
        passed,
        message: message.into(),
    }
}

/// The twelve criteria, judged together.
pub struct EscalationCriteria;

impl EscalationCriteria {
    pub fn evaluate(proposal: &Proposal, facts: &Facts, now: DateTime<Utc>) -> Evaluation {
        let checks = vec![
            customer_relationship(facts),
            not_partner_tenant(facts),
            service_escalatable(facts),
            active_subscription(facts),
            escalatable_category(proposal, facts),
            reason_given(proposal),
            partner_troubleshooting(proposal, now),
            no_active_incident(proposal, facts),
            severity_entitlement(proposal, facts),
            contact_complete(proposal),
            no_duplicate(facts),
            partner_in_good_standing(facts),
        ];
        Evaluation { checks }
    }
}

const NEEDS_CUSTOMER: &str = "cannot be judged without one of your customers";

fn customer_relationship(facts: &Facts) -> Check {
    match facts.customer {
        Some(_) => check(
            Criterion::CustomerRelationship,
            true,
            "the customer is yours",
        ),
        None => check(
            Criterion::CustomerRelationship,
            false,
            "no customer of yours has this id",
        ),
    }
}

fn not_partner_tenant(facts: &Facts) -> Check {
    match &facts.customer {
        None => check(Criterion::NotPartnerTenant, false, NEEDS_CUSTOMER),
        Some(customer) if customer.tenant_id == facts.partner.tenant_id => check(
            Criterion::NotPartnerTenant,
            false,
            "the customer is your own tenant, which escalation support does not cover",
        ),
        Some(_) => check(
            Criterion::NotPartnerTenant,
            true,
            "the customer is not your own tenant",
        ),
    }
}

fn service_escalatable(facts: &Facts) -> Check {
    let criterion = Criterion::ServiceEscalatable;
    match &facts.service {
        None => check(criterion, false, "the service is not in the catalog"),
        Some(service) if !service.first_party || service.operated_by != OPERATOR => check(
            criterion,
            false,
            format!(
                "the service is run by {}: marketplace products go to their publisher, not to 21Vianet",
                service.operated_by
            ),
        ),
        Some(_) => check(
            criterion,
            true,
            "21Vianet operates this first-party service",
        ),
    }
}

fn active_subscription(facts: &Facts) -> Check {
    let criterion = Criterion::ActiveSubscription;
    if facts.customer.is_none() {
        return check(criterion, false, NEEDS_CUSTOMER);
    }
    match facts.subscription {
        Some(SubscriptionStatus::Active) => {
            check(criterion, true, "the customer's subscription is active")
        }
        Some(status) => check(
            criterion,
            false,
            format!("the customer's subscription is {status}, not active"),
        ),
        None => check(
            criterion,
            false,
            "the customer has no subscription to this service",
        ),
    }
}

fn escalatable_category(proposal: &Proposal, facts: &Facts) -> Check {
    let criterion = Criterion::EscalatableCategory;
    let category = proposal.category;
    if !category.is_escalatable() {
        return check(
            criterion,
            false,
            format!("`{category}` is the partner's own work and is not escalated to 21Vianet"),
        );
    }
    match &facts.service {
        Some(service) if !service.categories.contains(&category) => check(
            criterion,
            false,
            format!("the service does not accept `{category}`"),
        ),
        _ => check(criterion, true, format!("21Vianet handles `{category}`")),
    }
}

/// Enough characters, and enough different ones, to be an actual explanation.
pub fn is_real_justification(text: &str) -> bool {
    let meaningful: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut distinct = meaningful.clone();
    distinct.sort_unstable();
    distinct.dedup();
    text.trim().chars().count() >= MIN_JUSTIFICATION_CHARS && distinct.len() >= MIN_DISTINCT_CHARS
}

fn reason_given(proposal: &Proposal) -> Check {
    let criterion = Criterion::ReasonGiven;
    let justified = proposal
        .justification
        .as_deref()
        .is_some_and(is_real_justification);
    match (proposal.reasons.is_empty(), justified) {
        (false, true) => check(criterion, true, "reasons and a justification are given"),
        (true, _) => check(
            criterion,
            false,
            "name at least one reason: lacks_training, lacks_documentation or lacks_support_tools",
        ),
        (false, false) => check(
            criterion,
            false,
            format!(
                "explain why you cannot solve the problem yourself, in at least {MIN_JUSTIFICATION_CHARS} characters"
            ),
        ),
    }
}

fn partner_troubleshooting(proposal: &Proposal, now: DateTime<Utc>) -> Check {
    let criterion = Criterion::PartnerTroubleshooting;
    let mut missing = Vec::new();
    if !proposal.admin_center_attempted {
        missing.push("try the admin center first".to_owned());
    }
    if proposal.troubleshooting_steps == 0 {
        missing.push("list at least one troubleshooting step".to_owned());
    }
    match proposal.service_health_checked_at {
        None => missing.push("check service health first".to_owned()),
        Some(checked) if checked > now + CLOCK_SKEW => {
            missing.push("the service health check time lies in the future".to_owned());
        }
        Some(checked) if now - checked > HEALTH_CHECK_WINDOW => {
            missing.push(
                "check service health again: the last check is more than 24 hours old".to_owned(),
            );
        }
        Some(_) => {}
    }
    if missing.is_empty() {
        check(
            criterion,
            true,
            "admin center tried, steps listed, service health checked within 24 hours",
        )
    } else {
        check(criterion, false, missing.join("; "))
    }
}

fn no_active_incident(proposal: &Proposal, facts: &Facts) -> Check {
    let criterion = Criterion::NoActiveIncident;
    let unexplained: Vec<String> = facts
        .active_incidents
        .iter()
        .filter(|id| !proposal.unrelated_incident_ids.contains(id))
        .map(Uuid::to_string)
        .collect();
    match (facts.active_incidents.is_empty(), unexplained.is_empty()) {
        (true, _) => check(criterion, true, "no incident is open on the service"),
        (false, true) => check(
            criterion,
            true,
            "every open incident on the service is named as unrelated",
        ),
        (false, false) => check(
            criterion,
            false,
            format!(
                "incidents are open on the service: escalate after they end, or name them in \
                 unrelated_incident_ids if the problem is unrelated: {}",
                unexplained.join(", ")
            ),
        ),
    }
}

fn severity_entitlement(proposal: &Proposal, facts: &Facts) -> Check {
    let criterion = Criterion::SeverityEntitlement;
    if proposal.severity != Severity::Critical {
        return check(
            criterion,
            true,
            format!("`{}` needs no entitlement", proposal.severity),
        );
    }
    let mut missing = Vec::new();
    match &facts.customer {
        None => missing.push(NEEDS_CUSTOMER.to_owned()),
        Some(customer) if customer.support_plan != SupportPlan::Premium => {
            missing.push("critical is for customers with the premium agreement".to_owned());
        }
        Some(_) => {}
    }
    if !proposal.contact.available_24x7 {
        missing.push("the contact must be available 24x7".to_owned());
    }
    if !proposal.contact.phone {
        missing.push("the contact must be reachable by phone".to_owned());
    }
    if missing.is_empty() {
        check(
            criterion,
            true,
            "premium customer, contact reachable by phone 24x7",
        )
    } else {
        check(criterion, false, missing.join("; "))
    }
}

fn contact_complete(proposal: &Proposal) -> Check {
    let criterion = Criterion::ContactComplete;
    let contact = proposal.contact;
    let mut missing: Vec<&str> = [
        (contact.first_name, "first_name"),
        (contact.last_name, "last_name"),
        (contact.email, "email"),
        (contact.method.is_some(), "preferred_contact_method"),
    ]
    .into_iter()
    .filter_map(|(given, field)| (!given).then_some(field))
    .collect();
    if contact.method == Some(ContactMethod::Phone) && !contact.phone {
        missing.push("phone (the preferred method is phone)");
    }
    if missing.is_empty() {
        check(criterion, true, "the partner contact is complete")
    } else {
        check(
            criterion,
            false,
            format!("the partner contact lacks {}", missing.join(", ")),
        )
    }
}

fn no_duplicate(facts: &Facts) -> Check {
    let criterion = Criterion::NoDuplicate;
    match (&facts.customer, &facts.open_duplicate) {
        (None, _) => check(criterion, false, NEEDS_CUSTOMER),
        (Some(_), Some(number)) => check(
            criterion,
            false,
            format!("{number} is already open for this customer, service and category"),
        ),
        (Some(_), None) => check(
            criterion,
            true,
            "no open escalation for this customer, service and category",
        ),
    }
}

fn partner_in_good_standing(facts: &Facts) -> Check {
    let criterion = Criterion::PartnerInGoodStanding;
    let partner = &facts.partner;
    if partner.status != PartnerStatus::Active {
        return check(criterion, false, "the partner is suspended");
    }
    match partner.overdue_remediation_plans {
        0 => check(criterion, true, "the partner is in good standing"),
        n => check(
            criterion,
            false,
            format!(
                "{n} remediation plan(s) requested by 21Vianet are unanswered past their deadline"
            ),
        ),
    }
}

#[cfg(test)]
mod tests;
