//! The 21Vianet escalation criteria. `EscalationCriteria::evaluate` judges a proposed escalation
//! against all twelve at once, from facts the caller gathered; nothing here touches HTTP or the
//! database, so every boundary is unit-tested below.

use super::policy::ProblemKind;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::deflection::OPERATOR;
use super::super::plans::vocabulary;
use super::{ContactMethod, Reason, Severity};
use crate::domain::{Category, PartnerStatus, SubscriptionStatus, SupportPlan};
use crate::i18n::{Text, clauses, list};

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

vocabulary!(Criterion labelled "criterion" {
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
    /// The highest severity the SLA policy gives the proposal's kind of problem (billing
    /// problems are at most moderate).
    pub highest_severity: Severity,
}

/// One criterion's outcome, and why, in words for the partner.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub criterion: Criterion,
    pub passed: bool,
    pub message: Text,
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

fn check(criterion: Criterion, passed: bool, message: Text) -> Check {
    Check {
        criterion,
        passed,
        message,
    }
}

/// Every reason a criterion fails, as one text; `None` when there is none.
fn failing(missing: Vec<Text>) -> Option<Text> {
    (!missing.is_empty()).then(|| Text::new("criterion-reasons").with("reasons", clauses(missing)))
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

fn needs_customer() -> Text {
    Text::new("criterion-needs-customer")
}

fn customer_relationship(facts: &Facts) -> Check {
    match facts.customer {
        Some(_) => check(
            Criterion::CustomerRelationship,
            true,
            Text::new("criterion-customer-yours"),
        ),
        None => check(
            Criterion::CustomerRelationship,
            false,
            Text::new("criterion-customer-not-yours"),
        ),
    }
}

fn not_partner_tenant(facts: &Facts) -> Check {
    match &facts.customer {
        None => check(Criterion::NotPartnerTenant, false, needs_customer()),
        Some(customer) if customer.tenant_id == facts.partner.tenant_id => check(
            Criterion::NotPartnerTenant,
            false,
            Text::new("criterion-own-tenant"),
        ),
        Some(_) => check(
            Criterion::NotPartnerTenant,
            true,
            Text::new("criterion-not-own-tenant"),
        ),
    }
}

fn service_escalatable(facts: &Facts) -> Check {
    let criterion = Criterion::ServiceEscalatable;
    match &facts.service {
        None => check(criterion, false, Text::new("criterion-service-unknown")),
        Some(service) if !service.first_party || service.operated_by != OPERATOR => check(
            criterion,
            false,
            Text::new("criterion-service-marketplace")
                .with("operator", service.operated_by.as_str()),
        ),
        Some(_) => check(criterion, true, Text::new("criterion-service-first-party")),
    }
}

fn active_subscription(facts: &Facts) -> Check {
    let criterion = Criterion::ActiveSubscription;
    if facts.customer.is_none() {
        return check(criterion, false, needs_customer());
    }
    match facts.subscription {
        Some(SubscriptionStatus::Active) => {
            check(criterion, true, Text::new("criterion-subscription-active"))
        }
        Some(status) => check(
            criterion,
            false,
            Text::new("criterion-subscription-inactive").with("status", status.as_str()),
        ),
        None => check(criterion, false, Text::new("criterion-subscription-none")),
    }
}

fn escalatable_category(proposal: &Proposal, facts: &Facts) -> Check {
    let criterion = Criterion::EscalatableCategory;
    let category = proposal.category;
    if !category.is_escalatable() {
        return check(
            criterion,
            false,
            Text::new("criterion-category-partner-work").with("category", category.as_str()),
        );
    }
    match &facts.service {
        Some(service) if !service.categories.contains(&category) => check(
            criterion,
            false,
            Text::new("criterion-category-not-accepted").with("category", category.as_str()),
        ),
        _ => check(
            criterion,
            true,
            Text::new("criterion-category-handled").with("category", category.as_str()),
        ),
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
        (false, true) => check(criterion, true, Text::new("criterion-reasons-given")),
        (true, _) => check(criterion, false, Text::new("criterion-reason-missing")),
        (false, false) => check(
            criterion,
            false,
            Text::new("criterion-justification-missing").with("min", MIN_JUSTIFICATION_CHARS),
        ),
    }
}

fn partner_troubleshooting(proposal: &Proposal, now: DateTime<Utc>) -> Check {
    let criterion = Criterion::PartnerTroubleshooting;
    let mut missing = Vec::new();
    if !proposal.admin_center_attempted {
        missing.push(Text::new("criterion-try-admin-center"));
    }
    if proposal.troubleshooting_steps == 0 {
        missing.push(Text::new("criterion-list-a-step"));
    }
    match proposal.service_health_checked_at {
        None => missing.push(Text::new("criterion-check-health")),
        Some(checked) if checked > now + CLOCK_SKEW => {
            missing.push(Text::new("criterion-health-check-in-future"));
        }
        Some(checked) if now - checked > HEALTH_CHECK_WINDOW => {
            missing.push(Text::new("criterion-health-check-stale"));
        }
        Some(_) => {}
    }
    match failing(missing) {
        None => check(criterion, true, Text::new("criterion-troubleshooting-done")),
        Some(reasons) => check(criterion, false, reasons),
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
        (true, _) => check(criterion, true, Text::new("criterion-no-incident")),
        (false, true) => check(criterion, true, Text::new("criterion-incidents-unrelated")),
        (false, false) => check(
            criterion,
            false,
            Text::new("criterion-incidents-open")
                .with("count", unexplained.len())
                .with("incidents", list(unexplained)),
        ),
    }
}

fn severity_entitlement(proposal: &Proposal, facts: &Facts) -> Check {
    let criterion = Criterion::SeverityEntitlement;
    let rank = |severity| match severity {
        Severity::Critical => 3,
        Severity::Moderate => 2,
        Severity::Minimal => 1,
    };
    if rank(proposal.severity) > rank(facts.highest_severity) {
        return check(
            criterion,
            false,
            Text::new("criterion-severity-above-kind")
                .with("kind", ProblemKind::of(proposal.category).as_str())
                .with("highest", facts.highest_severity.as_str()),
        );
    }
    if proposal.severity != Severity::Critical {
        return check(
            criterion,
            true,
            Text::new("criterion-severity-no-entitlement")
                .with("severity", proposal.severity.as_str()),
        );
    }
    let mut missing = Vec::new();
    match &facts.customer {
        None => missing.push(needs_customer()),
        Some(customer) if customer.support_plan != SupportPlan::Premium => {
            missing.push(Text::new("criterion-critical-needs-premium"));
        }
        Some(_) => {}
    }
    if !proposal.contact.available_24x7 {
        missing.push(Text::new("criterion-critical-needs-24x7"));
    }
    if !proposal.contact.phone {
        missing.push(Text::new("criterion-critical-needs-phone"));
    }
    match failing(missing) {
        None => check(criterion, true, Text::new("criterion-critical-entitled")),
        Some(reasons) => check(criterion, false, reasons),
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
        missing.push("phone");
    }
    if missing.is_empty() {
        check(criterion, true, Text::new("criterion-contact-complete"))
    } else {
        check(
            criterion,
            false,
            Text::new("criterion-contact-lacks").with("fields", list(missing)),
        )
    }
}

fn no_duplicate(facts: &Facts) -> Check {
    let criterion = Criterion::NoDuplicate;
    match (&facts.customer, &facts.open_duplicate) {
        (None, _) => check(criterion, false, needs_customer()),
        (Some(_), Some(number)) => check(
            criterion,
            false,
            Text::new("criterion-duplicate-open").with("number", number.as_str()),
        ),
        (Some(_), None) => check(criterion, true, Text::new("criterion-no-duplicate")),
    }
}

fn partner_in_good_standing(facts: &Facts) -> Check {
    let criterion = Criterion::PartnerInGoodStanding;
    let partner = &facts.partner;
    if partner.status != PartnerStatus::Active {
        return check(criterion, false, Text::new("criterion-partner-suspended"));
    }
    match partner.overdue_remediation_plans {
        0 => check(
            criterion,
            true,
            Text::new("criterion-partner-in-good-standing"),
        ),
        n => check(
            criterion,
            false,
            Text::new("criterion-remediation-overdue").with("count", n),
        ),
    }
}

#[cfg(test)]
mod tests;
