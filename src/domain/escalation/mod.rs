//! Escalations: the 21Vianet criteria, the lifecycle and the SLA clock.

pub mod criteria;
pub mod lifecycle;
pub mod policy;
pub mod sla;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::plans::vocabulary;

/// How urgent an escalation is, with 21Vianet's initial response targets: `critical` (severity
/// A: 2 hours around the clock, premium customers only), `moderate` (severity B: 4 hours) or
/// `minimal` (severity C: 8 hours), counted in support hours: 09:00–24:00 every day for
/// technical problems, 09:00–18:00 on business days for billing ones (see `GET /v1/sla/policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Moderate,
    Minimal,
}

vocabulary!(Severity labelled "severity" {
    Critical => "critical",
    Moderate => "moderate",
    Minimal => "minimal",
});

/// Why the partner cannot solve the problem itself: it lacks the necessary `lacks_training`,
/// `lacks_documentation` or `lacks_support_tools`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    LacksTraining,
    LacksDocumentation,
    LacksSupportTools,
}

vocabulary!(Reason labelled "reason" {
    LacksTraining => "lacks_training",
    LacksDocumentation => "lacks_documentation",
    LacksSupportTools => "lacks_support_tools",
});

/// How the 21Vianet technician should reach the partner: `email` or `phone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactMethod {
    Email,
    Phone,
}

vocabulary!(ContactMethod labelled "contact-method" {
    Email => "email",
    Phone => "phone",
});

/// The language the partner wants to be helped in (the technician's, when contacting the
/// partner): one of escalade's own languages.
pub use crate::i18n::Language;

/// Where an escalation stands.
///
/// `submitted` (waiting for triage), `in_progress` (a 21Vianet engineer works on it),
/// `awaiting_partner` (21Vianet needs something from the partner), `resolved` (a resolution was
/// given; the partner may reopen within 14 days), `closed` (final), `rejected` (21Vianet refused
/// it, possibly as a misescalation; final), `withdrawn` (the partner took it back before work
/// started; final).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    InProgress,
    AwaitingPartner,
    Resolved,
    Closed,
    Rejected,
    Withdrawn,
}

vocabulary!(Status labelled "escalation-status" {
    Submitted => "submitted",
    InProgress => "in_progress",
    AwaitingPartner => "awaiting_partner",
    Resolved => "resolved",
    Closed => "closed",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});

impl Status {
    /// Statuses in which an escalation is still open: a second one for the same customer,
    /// service and category would be a duplicate.
    pub const OPEN: [Status; 3] = [
        Status::Submitted,
        Status::InProgress,
        Status::AwaitingPartner,
    ];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}
