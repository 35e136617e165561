//! State machines of subscriptions and service incidents: which moves are allowed, so a refusal
//! can name the ones that are.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::plans::vocabulary;

/// A subscription's state: `pending` (ordered, not yet provisioned), `active`, `suspended`
/// (e.g. for non-payment; can be reactivated) or `deleted` (final).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Active,
    Pending,
    Suspended,
    Deleted,
}

vocabulary!(SubscriptionStatus labelled "subscription-status" {
    Active => "active",
    Pending => "pending",
    Suspended => "suspended",
    Deleted => "deleted",
});

impl SubscriptionStatus {
    /// Where a subscription in this state may go next; `deleted` goes nowhere.
    pub fn next(self) -> &'static [SubscriptionStatus] {
        use SubscriptionStatus::*;
        match self {
            Pending => &[Active, Deleted],
            Active => &[Suspended, Deleted],
            Suspended => &[Active, Deleted],
            Deleted => &[],
        }
    }

    /// Staying put is not a move, and always allowed.
    pub fn may_become(self, to: SubscriptionStatus) -> bool {
        self == to || self.next().contains(&to)
    }

    /// Counts as the customer's subscription to the service (only one such at a time).
    pub fn is_live(self) -> bool {
        self != SubscriptionStatus::Deleted
    }
}

/// How bad a service incident is: `information` (advisory), `warning` (degraded) or
/// `critical` (unavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSeverity {
    Information,
    Warning,
    Critical,
}

vocabulary!(IncidentSeverity labelled "incident-severity" {
    Information => "information",
    Warning => "warning",
    Critical => "critical",
});

/// Where a service incident stands: `investigating`, `mitigating`, or `resolved` (final).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Investigating,
    Mitigating,
    Resolved,
}

vocabulary!(IncidentStatus labelled "incident-status" {
    Investigating => "investigating",
    Mitigating => "mitigating",
    Resolved => "resolved",
});

impl IncidentStatus {
    /// Where an incident in this state may go next; a resolved incident stays resolved.
    pub fn next(self) -> &'static [IncidentStatus] {
        use IncidentStatus::*;
        match self {
            Investigating => &[Mitigating, Resolved],
            Mitigating => &[Investigating, Resolved],
            Resolved => &[],
        }
    }

    pub fn may_become(self, to: IncidentStatus) -> bool {
        self == to || self.next().contains(&to)
    }

    /// Still affecting the service.
    pub fn is_active(self) -> bool {
        self != IncidentStatus::Resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::*;

    #[test]
    fn subscription_moves() {
        let allowed = [
            (Pending, Active),
            (Pending, Deleted),
            (Active, Suspended),
            (Active, Deleted),
            (Suspended, Active),
            (Suspended, Deleted),
        ];
        for from in SubscriptionStatus::ALL {
            for to in SubscriptionStatus::ALL {
                let expected = from == to || allowed.contains(&(*from, *to));
                assert_eq!(from.may_become(*to), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn deleted_is_final_and_not_live() {
        assert!(Deleted.next().is_empty());
        assert!(!Deleted.is_live());
        assert!(Suspended.is_live());
    }

    #[test]
    fn a_resolved_incident_stays_resolved() {
        use IncidentStatus::*;
        assert!(Investigating.may_become(Mitigating));
        assert!(Mitigating.may_become(Investigating));
        assert!(Mitigating.may_become(Resolved));
        assert!(!Resolved.may_become(Investigating));
        assert!(!Resolved.may_become(Mitigating));
        assert!(!Resolved.is_active());
    }
}
