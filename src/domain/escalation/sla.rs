//! The SLA clock: when 21Vianet's first response is due, when an unanswered escalation is at
//! risk, and whether the response came late.
//!
//! The response time and the support window it runs in come from the SLA policy (see
//! [`policy`](super::policy)): by severity and by kind of problem. Windows on business days
//! follow China's business calendar (weekdays, less public holidays, plus the weekend days
//! worked in exchange).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::Severity;
use super::policy::{ProblemKind, SlaPolicy, Window};
use crate::domain::calendar::BusinessCalendar;

/// The SLA clock of a deployment: its policy, its business calendar and the share of the
/// response time after which an unanswered escalation is at risk.
#[derive(Debug, Clone)]
pub struct SlaClock {
    policy: Arc<SlaPolicy>,
    calendar: Arc<BusinessCalendar>,
    warning_share: f64,
}

impl SlaClock {
    /// `warning_share` is the elapsed share of the response time that puts an escalation at
    /// risk, strictly between 0 and 1.
    pub fn new(
        policy: Arc<SlaPolicy>,
        calendar: Arc<BusinessCalendar>,
        warning_share: f64,
    ) -> Self {
        assert!(
            warning_share > 0.0 && warning_share < 1.0,
            "the warning share is checked at start"
        );
        Self {
            policy,
            calendar,
            warning_share,
        }
    }

    pub fn calendar(&self) -> &BusinessCalendar {
        &self.calendar
    }

    pub fn policy(&self) -> &SlaPolicy {
        &self.policy
    }

    /// The window the clock of a `kind` problem at `severity` runs in. A severity the kind of
    /// problem is not entitled to (which the criteria refuse) runs in the technical window.
    pub fn window(&self, severity: Severity, kind: ProblemKind) -> Window {
        let target = self.policy.target(severity);
        target.window(kind).unwrap_or(target.technical)
    }

    /// When the first response is due for a `kind` problem submitted at `submitted_at`.
    pub fn response_due_at(
        &self,
        severity: Severity,
        kind: ProblemKind,
        submitted_at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        self.response_due_in(severity, self.window(severity, kind), submitted_at)
    }

    /// When the first response is due for an escalation submitted at `submitted_at` whose clock
    /// runs in `window`.
    pub fn response_due_in(
        &self,
        severity: Severity,
        window: Window,
        submitted_at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let target = self.policy.target(severity).response_time;
        window.add(&self.calendar, submitted_at, target)
    }

    /// When an escalation submitted at `submitted_at`, whose clock runs in `window`, becomes at
    /// risk while unanswered: the warning share of its response time has run, on that clock.
    pub fn warning_in(
        &self,
        severity: Severity,
        window: Window,
        submitted_at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let target = self.policy.target(severity).response_time;
        let share = (target.num_milliseconds() as f64 * self.warning_share).round() as i64;
        window.add(&self.calendar, submitted_at, Duration::milliseconds(share))
    }
}

/// An announcement the SLA clock makes about an unanswered escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaAlert {
    /// Its warning share of the response time has run.
    Warning,
    /// Its response is overdue.
    Breach,
}

/// Where an escalation stands with its SLA alerts.
#[derive(Debug, Clone, Copy)]
pub struct AlertState {
    pub warning_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Open and without a first response.
    pub awaiting_response: bool,
    pub warning_announced: bool,
    pub breach_announced: bool,
}

/// What to do about an escalation's SLA alerts now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStep {
    /// Announce this alert; the next one is due then (`None`: none remains).
    Announce(SlaAlert, Option<DateTime<Utc>>),
    /// Nothing to announce yet; the next alert is due then (`None`: none remains).
    Wait(Option<DateTime<Utc>>),
}

impl AlertState {
    /// Each alert is announced once, the warning before the breach; an escalation found
    /// overdue before its warning went out gets the breach alone.
    pub fn step(&self, now: DateTime<Utc>) -> AlertStep {
        if !self.awaiting_response || self.breach_announced {
            return AlertStep::Wait(None);
        }
        if breached(self.due_at, None, now) {
            return AlertStep::Announce(SlaAlert::Breach, None);
        }
        if self.warning_announced {
            return AlertStep::Wait(Some(self.due_at));
        }
        if now >= self.warning_at {
            AlertStep::Announce(SlaAlert::Warning, Some(self.due_at))
        } else {
            AlertStep::Wait(Some(self.warning_at))
        }
    }
}

/// Whether the response was (or is now) late: it came after the due time, or it has not come
/// and the due time has passed.
pub fn breached(
    due: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    match first_response_at {
        Some(responded) => responded > due,
        None => now > due,
    }
}

#[cfg(test)]
mod tests;
