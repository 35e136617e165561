//! The product's rules, free of HTTP and database types: what a valid value is, and what each
//! role may see and do.

pub mod attachment;
pub mod calendar;
pub mod catalog;
pub mod clock;
pub mod country;
pub mod deflection;
pub mod escalation;
pub mod lifecycle;
pub mod names;
pub mod person;
pub mod plans;
pub mod remediation;
pub mod role;
mod schema;
pub mod sealing;
pub mod search;
pub mod secret;
pub mod webhook;

pub use catalog::{Category, HttpsUrl, ServiceKey, SupportHours};
pub use country::CountryCode;
pub use lifecycle::{IncidentSeverity, IncidentStatus, SubscriptionStatus};
pub use names::{
    CompanyName, DisplayName, DomainName, EmailAddress, Invalid, MpnId, Paragraph, PhoneNumber,
    TimeZoneName, Title,
};
pub use plans::{PartnerStatus, SupportPlan};
pub use role::{Actor, ActorKind, Principal, Role, Scope};
