//! The business calendar as the API shows it, the due times it gives, and what an operator sees
//! when a year is missing or added.

use escalade::config::ServeSettings;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, timestamp};
use crate::world::World;

const DUE: &str = "/v1/sla/due";
const YEARS: &str = "/v1/business-calendar";

#[tokio::test]
async fn a_year_lists_its_holidays_and_make_up_days_in_the_callers_language() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;

    // Act
    let english = app.get(&format!("{YEARS}/2026"), &partner.key).await;
    let chinese = app
        .get_in(&format!("{YEARS}/2026"), &partner.key, "zh-CN")
        .await;

    // Assert
    assert_eq!(english.status, 200, "{}", english.body);
    assert_eq!(english.body["year"], 2026);
    assert_eq!(english.body["source"]["published"], "2025-11-04");
    let holidays = english.body["holidays"].as_array().unwrap();
    assert_eq!(holidays.len(), 7);
    let spring = json!({"name": "Spring Festival", "from": "2026-02-15", "to": "2026-02-23",
        "days_off": 9, "working_days": ["2026-02-14", "2026-02-28"]});
    assert_eq!(holidays[1], spring);
    let national_day = &chinese.body["holidays"][6];
    assert_eq!(national_day["name"], "国庆节");
    let make_up_days = json!(["2026-09-20", "2026-10-10"]);
    assert_eq!(national_day["working_days"], make_up_days);
    // A year without a notice is 404; outside 1970–2100, or not written as four digits, 400.
    let unpublished = app.get(&format!("{YEARS}/2031"), &operator).await;
    unpublished.problem(404, "not_found");
    for bad in [
        "twenty", "20266", "1200", "-1", "0000", "1969", "2101", "9999", "+2026", "0002026",
    ] {
        let answer = app.get(&format!("{YEARS}/{bad}"), &operator).await;
        let invalid = [("year", "invalid_year")];
        answer.case_refused(bad, 400, "invalid_path_parameter", &invalid);
    }
    let anonymous = app.get(&format!("{YEARS}/2026"), "not-a-key").await;
    anonymous.problem(401, "unauthorized");
}

#[tokio::test]
async fn due_times_skip_holidays_and_count_make_up_days_and_the_dry_run_gives_the_same() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);

    // (severity, submitted, due): the afternoon before National Day waits for October 8th;
    // the make-up Saturday after it is a working day; critical runs through the holiday.
    for (severity, from, due) in [
        (
            "moderate",
            "2026-09-30T16:00:00+08:00",
            "2026-10-08T03:00:00Z",
        ),
        (
            "minimal",
            "2026-10-09T17:00:00+08:00",
            "2026-10-10T08:00:00Z",
        ),
        (
            "moderate",
            "2026-02-14T17:00:00+08:00",
            "2026-02-24T04:00:00Z",
        ),
        (
            "critical",
            "2026-10-01T10:00:00+08:00",
            "2026-10-01T04:00:00Z",
        ),
    ] {
        // Act
        let params = [("severity", severity), ("from", from)];
        let answer = app.get_query(DUE, operator, &params).await;

        // Assert
        assert_eq!(answer.status, 200, "{}", answer.body);
        let due_at = timestamp(&answer.body["response_due_at"]);
        assert_eq!(due_at, timestamp(&json!(due)), "{severity} {from}");
        let warning_at = timestamp(&answer.body["warning_at"]);
        assert!(warning_at < due_at, "{severity} {from}");
    }
    let critical = app
        .get_query(DUE, operator, &[("severity", "critical")])
        .await;
    assert_eq!(critical.body["clock"], "around_the_clock");
    let from = timestamp(&critical.body["from"]);
    let due_in = timestamp(&critical.body["response_due_at"]) - from;
    assert_eq!(due_in, chrono::Duration::hours(2), "from defaults to now");
    // A due time past 9999 could not even be written in RFC 3339.
    for (query, field, code) in [
        ("from=2026-09-30T16:00:00Z", "severity", "required"),
        ("severity=urgent", "severity", "invalid_value"),
        (
            "severity=moderate&from=yesterday",
            "from",
            "invalid_datetime",
        ),
        (
            "severity=moderate&from=9999-12-31T23:59:59Z",
            "from",
            "out_of_range",
        ),
        (
            "severity=moderate&from=0000-01-01T00:00:00Z",
            "from",
            "out_of_range",
        ),
        (
            "severity=moderate&from=%2B2026-09-30T16:00:00Z",
            "from",
            "invalid_datetime",
        ),
        (
            "severity=moderate&from=0002026-09-30T16:00:00Z",
            "from",
            "invalid_datetime",
        ),
        ("severity=moderate&when=now", "when", "unknown_field"),
    ] {
        let answer = app.get(&format!("{DUE}?{query}"), operator).await;
        answer.case_refused(query, 400, "invalid_query", &[(field, code)]);
    }

    // The dry run gives the due time a submission now would get.
    let report = app
        .post("/v1/escalations/validate", world.key(), &world.body)
        .await;
    assert_eq!(report.status, 200, "{}", report.body);
    let asked = app
        .get_query(DUE, world.key(), &[("severity", "moderate")])
        .await;
    let dry_run_due = timestamp(&report.body["response_due_at"]);
    let asked_due = timestamp(&asked.body["response_due_at"]);
    // Asked a moment apart: within the same minute of the same business clock.
    let apart = (asked_due - dry_run_due).num_seconds().abs();
    assert!(apart < 60, "{dry_run_due} vs {asked_due}");
    let submitted = world.submit().await;
    let stored_due = timestamp(&submitted.body["sla"]["response_due_at"]);
    assert!((stored_due - dry_run_due).num_seconds().abs() < 60);
}

#[tokio::test]
async fn readyz_names_the_missing_years_and_an_operator_adds_one() {
    // Arrange
    let app = spawn_app().await;
    let this_year = chrono::Datelike::year(&chrono::Utc::now());
    let next = this_year.max(2026) + 1;
    let dir = tempfile::tempdir().unwrap();
    let new_year = json!({
        "year": next,
        "source": {"title": "operator's transcription", "published": "2026-11-01",
            "url": "https://www.gov.cn/"},
        "holidays": [{"name": {"en": "New Year's Day", "zh-Hans": "元旦"},
            "from": format!("{next}-01-01"), "to": format!("{next}-01-01"), "working_days": []}]
    });
    let file = dir.path().join(format!("{next}.json"));
    std::fs::write(file, new_year.to_string()).unwrap();
    let mut settings = ServeSettings::default();
    settings.sla.calendar_dir = Some(dir.path().to_owned());

    // Act
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    let ready: serde_json::Value = ready.json().await.unwrap();
    let with_next = spawn_app_with(settings).await;
    let key = with_next.operator_key().await;
    let year = with_next.get(&format!("{YEARS}/{next}"), &key).await;
    let new_years_eve = format!("{}-12-31T16:00:00+08:00", next - 1);
    let params = [("severity", "moderate"), ("from", &new_years_eve)];
    let due = with_next.get_query(DUE, &key, &params).await;

    // Assert
    assert_eq!(ready["status"], "ready");
    let years = &ready["details"]["calendar_years"];
    assert_eq!(*years, json!([2024, 2025, 2026]));
    let warnings = ready["details"]["warnings"].as_array().unwrap();
    let missing = (this_year..=this_year + 1).filter(|year| *year > 2026);
    assert_eq!(warnings.len(), missing.count(), "{warnings:?}");
    assert_eq!(year.status, 200, "{}", year.body);
    // December 31st's last 2 hours, then New Year's Day off: the rest on January 2nd (or the
    // next business day after it).
    let due_at = timestamp(&due.body["response_due_at"]);
    let january_2nd = timestamp(&json!(format!("{next}-01-02T01:00:00Z")));
    assert!(due_at > january_2nd, "{due_at}");
}
