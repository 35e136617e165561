//! Remediation: measuring how often a partner escalates incorrectly, and the plans 21Vianet
//! requests when it does too often.

use crate::i18n::{Arg, Text};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::plans::vocabulary;

/// The rolling window escalation quality is measured over.
pub const QUALITY_WINDOW: Duration = Duration::days(90);

/// When a partner's misescalation rate calls for remediation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RemediationPolicy {
    /// Share of escalations rejected as misescalations, from 0 to 1.
    pub threshold: f64,
    /// Fewer escalations than this are too few to judge.
    pub min_escalations: u64,
}

impl Default for RemediationPolicy {
    fn default() -> Self {
        Self {
            threshold: 0.25,
            min_escalations: 8,
        }
    }
}

/// A partner's escalation quality over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    pub escalations: u64,
    pub misescalations: u64,
    pub rate: f64,
    pub exceeds_threshold: bool,
}

impl Quality {
    /// The numbers and the verdict in a sentence for the partner and 21Vianet's staff.
    pub fn summary(&self, policy: &RemediationPolicy, window_days: i64) -> Text {
        let verdict = if self.exceeds_threshold {
            "exceeds"
        } else if self.escalations < policy.min_escalations {
            "too-few"
        } else {
            "within"
        };
        let percent = |share: f64| Arg::Decimal {
            value: share * 100.0,
            decimals: 1,
        };
        Text::new("quality-summary")
            .with("days", window_days)
            .with("escalations", self.escalations)
            .with("misescalations", self.misescalations)
            .with("rate", percent(self.rate))
            .with("threshold", percent(policy.threshold))
            .with("min", policy.min_escalations)
            .with("verdict", verdict)
    }
}

impl RemediationPolicy {
    pub fn assess(&self, escalations: u64, misescalations: u64) -> Quality {
        let rate = if escalations == 0 {
            0.0
        } else {
            misescalations as f64 / escalations as f64
        };
        Quality {
            escalations,
            misescalations,
            rate,
            exceeds_threshold: escalations >= self.min_escalations && rate >= self.threshold,
        }
    }
}

/// Where a remediation plan stands: `requested` by 21Vianet with a date to respond by,
/// `acknowledged` by the partner, `completed` when 21Vianet is satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Requested,
    Acknowledged,
    Completed,
}

vocabulary!(PlanStatus labelled "remediation-status" {
    Requested => "requested",
    Acknowledged => "acknowledged",
    Completed => "completed",
});

impl PlanStatus {
    /// The one status each plan status leads to.
    pub fn next(self) -> Option<PlanStatus> {
        match self {
            PlanStatus::Requested => Some(PlanStatus::Acknowledged),
            PlanStatus::Acknowledged => Some(PlanStatus::Completed),
            PlanStatus::Completed => None,
        }
    }
}

pub use super::clock::today_in_beijing;

/// A plan left `requested` past its date counts against the partner's standing.
pub fn is_overdue(status: PlanStatus, respond_by: NaiveDate, today: NaiveDate) -> bool {
    status == PlanStatus::Requested && today > respond_by
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_needs_enough_escalations() {
        let policy = RemediationPolicy::default();
        assert!(
            !policy.assess(7, 7).exceeds_threshold,
            "7 are too few to judge"
        );
        assert!(
            policy.assess(8, 2).exceeds_threshold,
            "25 % of 8 is on the threshold"
        );
        assert!(!policy.assess(8, 1).exceeds_threshold);
        assert_eq!(policy.assess(0, 0).rate, 0.0);
        assert_eq!(policy.assess(4, 1).rate, 0.25);
    }

    #[test]
    fn plans_move_one_way() {
        assert_eq!(PlanStatus::Requested.next(), Some(PlanStatus::Acknowledged));
        assert_eq!(PlanStatus::Acknowledged.next(), Some(PlanStatus::Completed));
        assert_eq!(PlanStatus::Completed.next(), None);
    }

    #[test]
    fn a_plan_is_overdue_the_day_after_its_date() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert!(!is_overdue(PlanStatus::Requested, date, date));
        assert!(is_overdue(
            PlanStatus::Requested,
            date,
            date.succ_opt().unwrap()
        ));
        assert!(!is_overdue(
            PlanStatus::Acknowledged,
            date,
            date.succ_opt().unwrap()
        ));
    }
}
