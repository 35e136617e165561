//! The product's rules, free of HTTP and database types: what a valid value is, and what each
//! role may see and do.

pub mod country;
pub mod names;
pub mod plans;
pub mod role;
mod schema;
pub mod secret;

pub use country::CountryCode;
pub use names::{CompanyName, DisplayName, DomainName, EmailAddress, Invalid, MpnId, PhoneNumber};
pub use plans::{PartnerStatus, SupportPlan};
pub use role::{Principal, Role, Scope};
