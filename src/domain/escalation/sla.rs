//! The SLA clock: when 21Vianet's first response is due, and whether it came late.
//!
//! Critical escalations run around the clock (2 hours). Moderate (4 hours) and minimal (8 hours)
//! run on business hours: 09:00–18:00 Beijing time, Monday to Friday. Public holidays are not
//! modelled: the clock runs on every weekday.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, TimeZone, Utc, Weekday};

use crate::domain::clock::beijing;

use super::Severity;

const OPENS: u32 = 9;
const CLOSES: u32 = 18;

/// How long 21Vianet has to respond, and on which clock.
pub fn response_target(severity: Severity) -> (Duration, bool) {
    match severity {
        Severity::Critical => (Duration::hours(2), false),
        Severity::Moderate => (Duration::hours(4), true),
        Severity::Minimal => (Duration::hours(8), true),
    }
}

/// When the first response is due for an escalation submitted at `submitted_at`.
pub fn response_due_at(severity: Severity, submitted_at: DateTime<Utc>) -> DateTime<Utc> {
    match response_target(severity) {
        (target, false) => submitted_at + target,
        (target, true) => add_business_time(submitted_at, target),
    }
}

fn is_business_day(day: Weekday) -> bool {
    !matches!(day, Weekday::Sat | Weekday::Sun)
}

fn at(date: chrono::NaiveDate, hour: u32) -> DateTime<FixedOffset> {
    let time = NaiveTime::from_hms_opt(hour, 0, 0).expect("a valid hour");
    beijing()
        .from_local_datetime(&date.and_time(time))
        .single()
        .expect("a fixed offset has no gaps")
}

/// The first business moment at or after `t`: `t` itself during business hours, otherwise the
/// next opening.
fn next_business_moment(t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    let mut date = t.date_naive();
    if is_business_day(date.weekday()) {
        if t < at(date, OPENS) {
            return at(date, OPENS);
        }
        if t < at(date, CLOSES) {
            return t;
        }
    }
    loop {
        date = date.succ_opt().expect("a date before the end of time");
        if is_business_day(date.weekday()) {
            return at(date, OPENS);
        }
    }
}

/// `start` plus `duration` counted in business hours only.
pub fn add_business_time(start: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    let mut t = next_business_moment(start.with_timezone(&beijing()));
    let mut remaining = duration;
    loop {
        let closes = at(t.date_naive(), CLOSES);
        let available = closes - t;
        if remaining <= available {
            return (t + remaining).with_timezone(&Utc);
        }
        remaining -= available;
        t = next_business_moment(closes);
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
mod tests {
    use super::*;

    /// A Beijing wall-clock time as UTC. 2026-11-23 is a Monday.
    fn bj(date: &str, time: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{date}T{time}+08:00"))
            .unwrap()
            .to_utc()
    }

    #[test]
    fn critical_runs_around_the_clock() {
        assert_eq!(
            response_due_at(Severity::Critical, bj("2026-11-28", "23:30:00")),
            bj("2026-11-29", "01:30:00")
        );
    }

    #[test]
    fn moderate_inside_one_business_day() {
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-23", "10:00:00")),
            bj("2026-11-23", "14:00:00")
        );
    }

    #[test]
    fn a_due_time_of_exactly_closing_stays_that_day() {
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-23", "14:00:00")),
            bj("2026-11-23", "18:00:00")
        );
    }

    #[test]
    fn the_clock_stops_overnight() {
        // 16:00 leaves 2 hours that day; 2 more from 09:00 the next morning.
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-23", "16:00:00")),
            bj("2026-11-24", "11:00:00")
        );
    }

    #[test]
    fn before_opening_the_clock_starts_at_nine() {
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-23", "07:45:00")),
            bj("2026-11-23", "13:00:00")
        );
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-23", "08:59:59")),
            bj("2026-11-23", "13:00:00")
        );
    }

    #[test]
    fn at_or_after_closing_the_clock_starts_next_morning() {
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-23", "18:00:00")),
            bj("2026-11-24", "13:00:00")
        );
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-23", "17:59:00")),
            bj("2026-11-24", "12:59:00")
        );
    }

    #[test]
    fn weekends_do_not_count() {
        // Friday 16:00: 2 hours on Friday, the rest Monday morning.
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-27", "16:00:00")),
            bj("2026-11-30", "11:00:00")
        );
        // Saturday and Sunday start on Monday at 09:00.
        assert_eq!(
            response_due_at(Severity::Moderate, bj("2026-11-28", "10:00:00")),
            bj("2026-11-30", "13:00:00")
        );
        assert_eq!(
            response_due_at(Severity::Minimal, bj("2026-11-29", "23:59:00")),
            bj("2026-11-30", "17:00:00")
        );
    }

    #[test]
    fn minimal_spans_a_full_business_day() {
        assert_eq!(
            response_due_at(Severity::Minimal, bj("2026-11-23", "09:00:00")),
            bj("2026-11-23", "17:00:00")
        );
        assert_eq!(
            response_due_at(Severity::Minimal, bj("2026-11-23", "11:00:00")),
            bj("2026-11-24", "10:00:00")
        );
        // Friday 17:00: 1 hour Friday, 7 on Monday.
        assert_eq!(
            response_due_at(Severity::Minimal, bj("2026-11-27", "17:00:00")),
            bj("2026-11-30", "16:00:00")
        );
    }

    #[test]
    fn business_hours_are_beijing_hours_whatever_the_utc_date() {
        // 01:30 UTC on Monday is 09:30 in Beijing.
        let monday = DateTime::parse_from_rfc3339("2026-11-23T01:30:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            response_due_at(Severity::Moderate, monday),
            bj("2026-11-23", "13:30:00")
        );
    }

    #[test]
    fn breach_is_judged_on_both_sides_of_the_due_time() {
        let due = bj("2026-11-23", "14:00:00");
        let before = due - Duration::seconds(1);
        let after = due + Duration::seconds(1);
        assert!(!breached(due, Some(due), after), "on time exactly");
        assert!(!breached(due, Some(before), after));
        assert!(breached(due, Some(after), after));
        assert!(!breached(due, None, before), "not yet due");
        assert!(!breached(due, None, due), "due now, not past");
        assert!(breached(due, None, after), "overdue without a response");
    }
}
