//! The business calendar as the API shows it, the due times it gives, and what an operator sees
//! when a year is missing or added.

use escalade::config::ServeSettings;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, timestamp};

#[tokio::test]
async fn a_year_lists_its_holidays_and_make_up_days_in_the_callers_language() {
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;

    let english = app.get("/v1/business-calendar/2026", &partner.key).await;
    assert_eq!(english.status, 200, "{}", english.body);
    assert_eq!(english.body["year"], 2026);
    assert_eq!(english.body["source"]["published"], "2025-11-04");
    let holidays = english.body["holidays"].as_array().unwrap();
    assert_eq!(holidays.len(), 7);
    let spring = &holidays[1];
    assert_eq!(
        spring,
        &json!({"name": "Spring Festival", "from": "2026-02-15", "to": "2026-02-23", "days_off": 9,
            "working_days": ["2026-02-14", "2026-02-28"]})
    );

    let chinese = app
        .send(
            app.request(
                reqwest::Method::GET,
                "/v1/business-calendar/2026",
                &partner.key,
            )
            .header("Accept-Language", "zh-CN"),
        )
        .await;
    assert_eq!(chinese.body["holidays"][6]["name"], "国庆节");
    assert_eq!(
        chinese.body["holidays"][6]["working_days"],
        json!(["2026-09-20", "2026-10-10"])
    );
}

#[tokio::test]
async fn a_year_without_a_notice_is_404_and_a_malformed_one_400() {
    let app = spawn_app().await;
    let key = app.operator_key().await;
    app.get("/v1/business-calendar/2031", &key)
        .await
        .problem(404, "not_found");
    // Outside 1970–2100, or not written as four digits.
    for bad in [
        "twenty", "20266", "1200", "-1", "0000", "1969", "2101", "9999", "+2026", "0002026",
    ] {
        let answer = app.get(&format!("/v1/business-calendar/{bad}"), &key).await;
        answer.problem(400, "invalid_path_parameter");
        assert_eq!(answer.error_fields(), ["year"], "{bad}");
        assert_eq!(answer.body["errors"][0]["code"], "invalid_year", "{bad}");
    }
    app.get("/v1/business-calendar/2026", "not-a-key")
        .await
        .problem(401, "unauthorized");
}

#[tokio::test]
async fn due_times_skip_holidays_and_count_make_up_days() {
    let app = spawn_app().await;
    let key = app.operator_key().await;
    // (severity, submitted, due): the afternoon before National Day waits for October 8th;
    // the make-up Saturday after it is a working day; critical runs through the holiday.
    let cases = [
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
    ];
    for (severity, from, due) in cases {
        let answer = app
            .get_query(
                "/v1/sla/due",
                &key,
                &[("severity", severity), ("from", from)],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            timestamp(&answer.body["response_due_at"]),
            timestamp(&json!(due)),
            "{severity} {from}"
        );
        assert!(timestamp(&answer.body["warning_at"]) < timestamp(&answer.body["response_due_at"]));
    }
    let critical = app
        .get_query("/v1/sla/due", &key, &[("severity", "critical")])
        .await;
    assert_eq!(critical.body["clock"], "around_the_clock");
    let from = timestamp(&critical.body["from"]);
    assert_eq!(
        timestamp(&critical.body["response_due_at"]) - from,
        chrono::Duration::hours(2),
        "from defaults to now"
    );

    for (params, field, code) in [
        (
            vec![("from", "2026-09-30T16:00:00Z")],
            "severity",
            "required",
        ),
        (vec![("severity", "urgent")], "severity", "invalid_value"),
        (
            vec![("severity", "moderate"), ("from", "yesterday")],
            "from",
            "invalid_datetime",
        ),
        // A due time past 9999 could not even be written in RFC 3339.
        (
            vec![("severity", "moderate"), ("from", "9999-12-31T23:59:59Z")],
            "from",
            "out_of_range",
        ),
        (
            vec![("severity", "moderate"), ("from", "0000-01-01T00:00:00Z")],
            "from",
            "out_of_range",
        ),
        (
            vec![("severity", "moderate"), ("from", "+2026-09-30T16:00:00Z")],
            "from",
            "invalid_datetime",
        ),
        (
            vec![
                ("severity", "moderate"),
                ("from", "0002026-09-30T16:00:00Z"),
            ],
            "from",
            "invalid_datetime",
        ),
        (
            vec![("severity", "moderate"), ("when", "now")],
            "when",
            "unknown_field",
        ),
    ] {
        let answer = app.get_query("/v1/sla/due", &key, &params).await;
        answer.problem(400, "invalid_query");
        assert_eq!(
            answer.error_fields(),
            [field],
            "{params:?}: {}",
            answer.body
        );
        assert_eq!(answer.body["errors"][0]["code"], code, "{params:?}");
    }
}

#[tokio::test]
async fn the_dry_run_gives_the_due_time_a_submission_now_would_get() {
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let report = app
        .post(
            "/v1/escalations/validate",
            &fixture.partner.key,
            &fixture.body,
        )
        .await;
    assert_eq!(report.status, 200, "{}", report.body);
    let expected = app
        .get_query(
            "/v1/sla/due",
            &fixture.partner.key,
            &[("severity", "moderate")],
        )
        .await;
    let dry_run_due = timestamp(&report.body["response_due_at"]);
    let asked_due = timestamp(&expected.body["response_due_at"]);
    // Asked a moment apart: within the same minute of the same business clock.
    assert!(
        (asked_due - dry_run_due).num_seconds().abs() < 60,
        "{dry_run_due} vs {asked_due}"
    );

    let submitted = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let stored_due = timestamp(&submitted.body["sla"]["response_due_at"]);
    assert!((stored_due - dry_run_due).num_seconds().abs() < 60);
}

#[tokio::test]
async fn readyz_names_the_missing_years_and_an_operator_adds_one() {
    let app = spawn_app().await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(
        ready["details"]["calendar_years"],
        json!([2024, 2025, 2026])
    );
    let this_year = chrono::Datelike::year(&chrono::Utc::now());
    let warnings = ready["details"]["warnings"].as_array().unwrap();
    let missing: Vec<i32> = (this_year..=this_year + 1)
        .filter(|year| *year > 2026)
        .collect();
    assert_eq!(warnings.len(), missing.len(), "{warnings:?}");

    let dir = tempfile::tempdir().unwrap();
    let next = this_year.max(2026) + 1;
    std::fs::write(
        dir.path().join(format!("{next}.json")),
        json!({
            "year": next,
            "source": {"title": "operator's transcription", "published": "2026-11-01", "url": "https://www.gov.cn/"},
            "holidays": [{"name": {"en": "New Year's Day", "zh-Hans": "元旦"},
                "from": format!("{next}-01-01"), "to": format!("{next}-01-01"), "working_days": []}]
        })
        .to_string(),
    )
    .unwrap();
    let mut settings = ServeSettings::default();
    settings.sla.calendar_dir = Some(dir.path().to_owned());
    let with_next = spawn_app_with(settings).await;
    let key = with_next.operator_key().await;
    let year = with_next
        .get(&format!("/v1/business-calendar/{next}"), &key)
        .await;
    assert_eq!(year.status, 200, "{}", year.body);
    let due = with_next
        .get_query(
            "/v1/sla/due",
            &key,
            &[
                ("severity", "moderate"),
                ("from", &format!("{}-12-31T16:00:00+08:00", next - 1)),
            ],
        )
        .await;
    // December 31st's last 2 hours, then New Year's Day off: the rest on January 2nd (or the
    // next business day after it).
    let due_at = timestamp(&due.body["response_due_at"]);
    assert!(
        due_at > timestamp(&json!(format!("{next}-01-02T01:00:00Z"))),
        "{due_at}"
    );
}
