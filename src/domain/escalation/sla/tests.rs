//! The SLA clock at the edges of its windows, holidays and make-up days included.

use super::*;

fn clock() -> SlaClock {
    let policy = Arc::new(SlaPolicy::load(None).unwrap());
    SlaClock::new(policy, Arc::new(BusinessCalendar::load(None).unwrap()), 0.8)
}

/// The due time of a billing problem, whose clock runs 09:00–18:00 on business days.
fn response_due_at(severity: Severity, submitted_at: DateTime<Utc>) -> DateTime<Utc> {
    clock().response_due_at(severity, ProblemKind::Billing, submitted_at)
}

/// A Beijing wall-clock time as UTC. 2026-11-23 is a Monday.
fn bj(date: &str, time: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{date}T{time}+08:00"))
        .unwrap()
        .to_utc()
}

/// The published plan's windows at their edges: technical problems from 09:00 to 24:00
/// every day, holidays included; billing ones on business days from 09:00 to 18:00.
#[test]
fn each_kind_of_problem_runs_in_its_own_window() {
    let clock = clock();
    use ProblemKind::{Billing, Technical};
    use Severity::{Critical, Minimal, Moderate};
    // (severity, kind, submitted, due, why), Beijing time.
    let cases = [
        (
            Moderate,
            Technical,
            ("2026-10-03", "22:00:00"),
            ("2026-10-04", "11:00:00"),
            "Saturday 3 October, National Day: 2 hours before midnight, 2 from 09:00",
        ),
        (
            Minimal,
            Technical,
            ("2026-10-01", "10:00:00"),
            ("2026-10-01", "18:00:00"),
            "a holiday morning: 8 hours straight",
        ),
        (
            Moderate,
            Billing,
            ("2026-09-30", "16:00:00"),
            ("2026-10-08", "11:00:00"),
            "billing waits out the holidays: 2 hours on the 30th, 2 on the 8th",
        ),
        (
            Critical,
            Technical,
            ("2026-10-03", "22:00:00"),
            ("2026-10-04", "00:00:00"),
            "critical is 2 hours later whatever the day",
        ),
        (
            Moderate,
            Technical,
            ("2026-11-23", "20:00:00"),
            ("2026-11-24", "00:00:00"),
            "a due time of exactly midnight stays on the day it closes",
        ),
        (
            Moderate,
            Technical,
            ("2026-11-24", "02:00:00"),
            ("2026-11-24", "13:00:00"),
            "after midnight, before opening: from 09:00",
        ),
    ];
    for (severity, kind, (day, time), (due_day, due_time), why) in cases {
        let due = clock.response_due_at(severity, kind, bj(day, time));
        assert_eq!(due, bj(due_day, due_time), "{why}");
    }
    let saturday_night = bj("2026-10-03", "22:00:00");
    let warning = clock.warning_in(
        Severity::Moderate,
        clock.window(Severity::Moderate, Technical),
        saturday_night,
    );
    assert_eq!(
        warning,
        bj("2026-10-04", "10:12:00"),
        "80 % of 4 hours on the same clock"
    );
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

#[test]
fn holiday_blocks_of_2026_stop_the_clock() {
    use Severity::{Minimal, Moderate};
    let cases = [
        // New Year (Jan 1–3), worked Sunday Jan 4; across the year boundary.
        (
            Moderate,
            ("2025-12-31", "16:00:00"),
            ("2026-01-04", "11:00:00"),
        ),
        // Spring Festival (Feb 15–23), worked Saturdays Feb 14 and 28.
        (
            Moderate,
            ("2026-02-13", "17:00:00"),
            ("2026-02-14", "12:00:00"),
        ),
        (
            Moderate,
            ("2026-02-14", "17:00:00"),
            ("2026-02-24", "12:00:00"),
        ),
        (
            Minimal,
            ("2026-02-27", "12:00:00"),
            ("2026-02-28", "11:00:00"),
        ),
        // Qingming (Apr 4–6): Monday the 6th is off.
        (
            Minimal,
            ("2026-04-03", "17:00:00"),
            ("2026-04-07", "16:00:00"),
        ),
        // Labour Day (May 1–5), worked Saturday May 9.
        (
            Moderate,
            ("2026-04-30", "15:00:00"),
            ("2026-05-06", "10:00:00"),
        ),
        (
            Minimal,
            ("2026-05-08", "17:30:00"),
            ("2026-05-09", "16:30:00"),
        ),
        // Dragon Boat (Jun 19–21): Friday the 19th is off.
        (
            Moderate,
            ("2026-06-18", "17:00:00"),
            ("2026-06-22", "12:00:00"),
        ),
        // Mid-Autumn (Sep 25–27), from closing time.
        (
            Moderate,
            ("2026-09-24", "18:00:00"),
            ("2026-09-28", "13:00:00"),
        ),
        // National Day (Oct 1–7), worked Sunday Sep 20 and Saturday Oct 10.
        (
            Moderate,
            ("2026-09-19", "10:00:00"),
            ("2026-09-20", "13:00:00"),
        ),
        (
            Moderate,
            ("2026-09-30", "16:00:00"),
            ("2026-10-08", "11:00:00"),
        ),
        (
            Moderate,
            ("2026-09-30", "18:00:00"),
            ("2026-10-08", "13:00:00"),
        ),
        (
            Moderate,
            ("2026-10-03", "11:00:00"),
            ("2026-10-08", "13:00:00"),
        ),
        (
            Moderate,
            ("2026-10-08", "08:59:00"),
            ("2026-10-08", "13:00:00"),
        ),
        (
            Minimal,
            ("2026-10-09", "17:00:00"),
            ("2026-10-10", "16:00:00"),
        ),
        (
            Minimal,
            ("2026-10-10", "17:59:00"),
            ("2026-10-12", "16:59:00"),
        ),
    ];
    for (severity, (date, time), (due_date, due_time)) in cases {
        assert_eq!(
            response_due_at(severity, bj(date, time)),
            bj(due_date, due_time),
            "{severity:?} submitted {date} {time}"
        );
    }
}

#[test]
fn critical_runs_through_holidays() {
    assert_eq!(
        response_due_at(Severity::Critical, bj("2026-10-01", "10:00:00")),
        bj("2026-10-01", "12:00:00")
    );
}

#[test]
fn a_year_without_a_notice_runs_on_weekdays() {
    // 2027-01-01 is a Friday; without 2027's notice it counts as a business day.
    assert_eq!(
        response_due_at(Severity::Moderate, bj("2026-12-31", "16:00:00")),
        bj("2027-01-01", "11:00:00")
    );
}

#[test]
fn the_warning_comes_at_its_share_of_business_time() {
    let clock = clock();
    // 80 % of 4 business hours is 3 h 12 min: 2 h on Sep 30, 1 h 12 min after the holiday.
    assert_eq!(
        clock.warning_in(
            Severity::Moderate,
            clock.window(Severity::Moderate, ProblemKind::Billing),
            bj("2026-09-30", "16:00:00")
        ),
        bj("2026-10-08", "10:12:00")
    );
    assert_eq!(
        clock.warning_in(
            Severity::Critical,
            clock.window(Severity::Critical, ProblemKind::Technical),
            bj("2026-10-01", "10:00:00")
        ),
        bj("2026-10-01", "11:36:00")
    );
}

#[test]
fn alerts_come_once_each_in_order() {
    let warning_at = bj("2026-11-23", "12:12:00");
    let due_at = bj("2026-11-23", "13:00:00");
    let state = AlertState {
        warning_at,
        due_at,
        awaiting_response: true,
        warning_announced: false,
        breach_announced: false,
    };
    let before = warning_at - Duration::seconds(1);
    let after_due = due_at + Duration::seconds(1);
    assert_eq!(state.step(before), AlertStep::Wait(Some(warning_at)));
    assert_eq!(
        state.step(warning_at),
        AlertStep::Announce(SlaAlert::Warning, Some(due_at))
    );
    let warned = AlertState {
        warning_announced: true,
        ..state
    };
    assert_eq!(warned.step(due_at), AlertStep::Wait(Some(due_at)));
    assert_eq!(
        warned.step(after_due),
        AlertStep::Announce(SlaAlert::Breach, None)
    );
    // Found overdue before the warning went out: the breach alone.
    assert_eq!(
        state.step(after_due),
        AlertStep::Announce(SlaAlert::Breach, None)
    );
    let done = AlertState {
        breach_announced: true,
        ..warned
    };
    assert_eq!(done.step(after_due), AlertStep::Wait(None));
    let answered = AlertState {
        awaiting_response: false,
        ..state
    };
    assert_eq!(answered.step(after_due), AlertStep::Wait(None));
}
