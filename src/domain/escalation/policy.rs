//! 21Vianet's SLA policy as data: for each severity, how soon the first response is due and,
//! for each kind of problem, the support window its clock runs in. A kind of problem without a
//! window at a severity may not be escalated at it (billing problems are at most moderate).
//!
//! The policy escalade ships (`sla/policy.json`) transcribes 21Vianet's published support plan;
//! a deployment replaces it with `--sla-policy-file` without a release.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Deserialize;

use super::Severity;
use crate::domain::calendar::BusinessCalendar;
use crate::domain::catalog::Category;
use crate::domain::clock::beijing;

/// The policy shipped with escalade.
const SHIPPED: &str = include_str!("../../../sla/policy.json");

/// The kind of problem a support window is set for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Every escalated category but `billing_dispute`.
    Technical,
    /// `billing_dispute`: billing, subscription and quota.
    Billing,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Technical => "technical",
            Self::Billing => "billing",
        }
    }

    pub fn of(category: Category) -> Self {
        match category {
            Category::BillingDispute => Self::Billing,
            _ => Self::Technical,
        }
    }
}

/// A time of day as minutes after midnight, `24:00` (1440) included as a closing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    const MIDNIGHT_AFTER: u16 = 24 * 60;

    fn parse(text: &str) -> Option<Self> {
        let (hours, minutes) = text.split_once(':')?;
        if hours.len() != 2 || minutes.len() != 2 {
            return None;
        }
        let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
        let minutes = (minutes < 60).then_some(hours * 60 + minutes)?;
        (minutes <= Self::MIDNIGHT_AFTER).then_some(Self(minutes))
    }

    /// This time on `date`, Beijing time (`24:00` being the next day's midnight).
    fn on(self, date: NaiveDate) -> DateTime<FixedOffset> {
        let midnight = beijing()
            .from_local_datetime(&date.and_time(NaiveTime::MIN))
            .single()
            .expect("a fixed offset has no gaps");
        midnight + Duration::minutes(i64::from(self.0))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// The hours of a day support is staffed, Beijing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub opens: TimeOfDay,
    pub closes: TimeOfDay,
}

/// When the SLA clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Every hour of every day.
    AroundTheClock,
    /// Every day of the year, holidays included, within these hours.
    Daily(Hours),
    /// China's business days only (see the business calendar), within these hours.
    BusinessDays(Hours),
}

impl Window {
    /// `start` plus `span` of time inside the window.
    pub fn add(
        self,
        calendar: &BusinessCalendar,
        start: DateTime<Utc>,
        span: Duration,
    ) -> DateTime<Utc> {
        let hours = match self {
            Self::AroundTheClock => return start + span,
            Self::Daily(hours) | Self::BusinessDays(hours) => hours,
        };
        let mut t = self.next_open(calendar, start.with_timezone(&beijing()));
        let mut remaining = span;
        loop {
            let closes = hours.closes.on(t.date_naive());
            let available = closes - t;
            if remaining <= available {
                return (t + remaining).with_timezone(&Utc);
            }
            remaining -= available;
            t = self.next_open(calendar, closes);
        }
    }

    /// The first moment at or after `t` inside the window.
    fn next_open(
        self,
        calendar: &BusinessCalendar,
        t: DateTime<FixedOffset>,
    ) -> DateTime<FixedOffset> {
        let (hours, business_days_only) = match self {
            Self::AroundTheClock => return t,
            Self::Daily(hours) => (hours, false),
            Self::BusinessDays(hours) => (hours, true),
        };
        let mut date = t.date_naive();
        loop {
            if !business_days_only || calendar.is_business_day(date) {
                let (opens, closes) = (hours.opens.on(date), hours.closes.on(date));
                if t < opens {
                    return opens;
                }
                if t < closes {
                    return t;
                }
            }
            date = date.succ_opt().expect("a date before the end of time");
        }
    }

    pub fn hours(self) -> Option<Hours> {
        match self {
            Self::AroundTheClock => None,
            Self::Daily(hours) | Self::BusinessDays(hours) => Some(hours),
        }
    }
}

/// As kept with each escalation: `24x7`, `daily 09:00-24:00`, `business_days 09:00-18:00`.
impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AroundTheClock => f.write_str("24x7"),
            Self::Daily(hours) => write!(f, "daily {}-{}", hours.opens, hours.closes),
            Self::BusinessDays(hours) => {
                write!(f, "business_days {}-{}", hours.opens, hours.closes)
            }
        }
    }
}

impl FromStr for Window {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text == "24x7" {
            return Ok(Self::AroundTheClock);
        }
        let invalid = || format!("{text:?} is not a support window");
        let (days, range) = text.split_once(' ').ok_or_else(invalid)?;
        let (opens, closes) = range.split_once('-').ok_or_else(invalid)?;
        let hours = hours(opens, closes).map_err(|_| invalid())?;
        match days {
            "daily" => Ok(Self::Daily(hours)),
            "business_days" => Ok(Self::BusinessDays(hours)),
            _ => Err(invalid()),
        }
    }
}

fn hours(opens: &str, closes: &str) -> Result<Hours, String> {
    let time = |text: &str| {
        TimeOfDay::parse(text).ok_or_else(|| format!("{text:?} is not a time from 00:00 to 24:00"))
    };
    let (opens, closes) = (time(opens)?, time(closes)?);
    if opens >= closes {
        return Err(format!(
            "the window opens at {opens}, not before it closes at {closes}"
        ));
    }
    Ok(Hours { opens, closes })
}

/// What a severity is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub response_time: Duration,
    pub technical: Window,
    /// `None`: billing problems may not be escalated at this severity.
    pub billing: Option<Window>,
}

impl Target {
    pub fn window(&self, kind: ProblemKind) -> Option<Window> {
        match kind {
            ProblemKind::Technical => Some(self.technical),
            ProblemKind::Billing => self.billing,
        }
    }
}

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySource {
    pub title: String,
    pub url: String,
}

/// The SLA policy: a target for each severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    pub source: PolicySource,
    critical: Target,
    moderate: Target,
    minimal: Target,
}

/// A policy file that cannot be used: which file, and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct PolicyError {
    file: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    source: PolicySource,
    severities: BTreeMap<String, TargetFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    response_hours: u32,
    technical: WindowFile,
    billing: Option<WindowFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum WindowFile {
    #[serde(rename = "24x7")]
    AroundTheClock,
    Daily([String; 2]),
    BusinessDays([String; 2]),
}

impl WindowFile {
    fn window(&self) -> Result<Window, String> {
        Ok(match self {
            Self::AroundTheClock => Window::AroundTheClock,
            Self::Daily([opens, closes]) => Window::Daily(hours(opens, closes)?),
            Self::BusinessDays([opens, closes]) => Window::BusinessDays(hours(opens, closes)?),
        })
    }
}

impl SlaPolicy {
    /// The shipped policy, or the one in `file`.
    pub fn load(file: Option<&Path>) -> Result<Self, PolicyError> {
        match file {
            None => Self::parse("sla/policy.json", SHIPPED),
            Some(path) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|err| PolicyError {
                    file: shown.clone(),
                    reason: format!("cannot be read: {err}"),
                })?;
                Self::parse(&shown, &text)
            }
        }
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, PolicyError> {
        let error = |reason: String| PolicyError {
            file: file.to_owned(),
            reason,
        };
        let parsed: PolicyFile =
            serde_json::from_str(text).map_err(|err| error(err.to_string()))?;
        let mut targets = BTreeMap::new();
        for (name, target) in &parsed.severities {
            let at = |reason: String| error(format!("severities.{name}: {reason}"));
            let severity = Severity::parse(name).ok_or_else(|| {
                at("is not a severity: use critical, moderate and minimal".to_owned())
            })?;
            if !(1..=168).contains(&target.response_hours) {
                return Err(at("response_hours must be 1 to 168".to_owned()));
            }
            let technical = target
                .technical
                .window()
                .map_err(|e| at(format!("technical: {e}")))?;
            let billing = target
                .billing
                .as_ref()
                .map(WindowFile::window)
                .transpose()
                .map_err(|e| at(format!("billing: {e}")))?;
            let target = Target {
                response_time: Duration::hours(i64::from(target.response_hours)),
                technical,
                billing,
            };
            targets.insert(severity.as_str(), target);
        }
        let mut take = |severity: Severity| {
            targets
                .remove(severity.as_str())
                .ok_or_else(|| error(format!("severities.{} is missing", severity.as_str())))
        };
        let policy = Self {
            source: parsed.source,
            critical: take(Severity::Critical)?,
            moderate: take(Severity::Moderate)?,
            minimal: take(Severity::Minimal)?,
        };
        // A kind of problem entitled to a severity is entitled to every lower one.
        for (higher, lower) in [
            (Severity::Critical, Severity::Moderate),
            (Severity::Moderate, Severity::Minimal),
        ] {
            if policy.target(higher).billing.is_some() && policy.target(lower).billing.is_none() {
                return Err(error(format!(
                    "severities.{}: billing has no window, but {} has one",
                    lower.as_str(),
                    higher.as_str()
                )));
            }
        }
        Ok(policy)
    }

    pub fn target(&self, severity: Severity) -> &Target {
        match severity {
            Severity::Critical => &self.critical,
            Severity::Moderate => &self.moderate,
            Severity::Minimal => &self.minimal,
        }
    }

    /// The highest severity a kind of problem may be escalated at.
    pub fn highest_severity(&self, kind: ProblemKind) -> Severity {
        [Severity::Critical, Severity::Moderate, Severity::Minimal]
            .into_iter()
            .find(|severity| self.target(*severity).window(kind).is_some())
            .unwrap_or(Severity::Minimal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_is_the_published_plan() {
        let policy = SlaPolicy::load(None).unwrap();
        let daily = "daily 09:00-24:00".parse().unwrap();
        let business_days = "business_days 09:00-18:00".parse().unwrap();
        assert_eq!(
            *policy.target(Severity::Critical),
            Target {
                response_time: Duration::hours(2),
                technical: Window::AroundTheClock,
                billing: None
            }
        );
        for (severity, hours) in [(Severity::Moderate, 4), (Severity::Minimal, 8)] {
            let target = policy.target(severity);
            assert_eq!(target.response_time, Duration::hours(hours));
            assert_eq!(
                (target.technical, target.billing),
                (daily, Some(business_days))
            );
        }
        assert_eq!(
            policy.highest_severity(ProblemKind::Billing),
            Severity::Moderate
        );
        assert_eq!(
            policy.highest_severity(ProblemKind::Technical),
            Severity::Critical
        );
    }

    #[test]
    fn windows_read_back_as_they_are_kept() {
        for text in ["24x7", "daily 09:00-24:00", "business_days 08:30-17:30"] {
            assert_eq!(text.parse::<Window>().unwrap().to_string(), text);
        }
        for bad in [
            "",
            "daily",
            "daily 18:00-09:00",
            "weekly 09:00-18:00",
            "daily 9:00-18:00",
        ] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_malformed_policy_names_the_file_and_what_is_wrong() {
        let shipped: serde_json::Value = serde_json::from_str(SHIPPED).unwrap();
        type Breakage = fn(&mut serde_json::Value);
        let cases: [(&str, Breakage); 5] = [
            ("severities.minimal is missing", |p| {
                p["severities"].as_object_mut().unwrap().remove("minimal");
            }),
            ("severities.urgent: is not a severity", |p| {
                p["severities"]["urgent"] = p["severities"]["minimal"].clone();
            }),
            (
                "severities.moderate: technical: \"25:00\" is not a time",
                |p| {
                    p["severities"]["moderate"]["technical"] =
                        serde_json::json!({"daily": ["09:00", "25:00"]});
                },
            ),
            (
                "severities.minimal: billing has no window, but moderate has one",
                |p| {
                    p["severities"]["minimal"]["billing"] = serde_json::Value::Null;
                },
            ),
            (
                "severities.critical: response_hours must be 1 to 168",
                |p| {
                    p["severities"]["critical"]["response_hours"] = 0.into();
                },
            ),
        ];
        for (expected, break_it) in cases {
            let mut policy = shipped.clone();
            break_it(&mut policy);
            let err = SlaPolicy::parse("policy.json", &policy.to_string()).unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with("policy.json: "), "{message}");
            assert!(message.contains(expected), "{message} lacks {expected}");
        }
    }
}
