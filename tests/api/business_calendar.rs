//! The business calendar as the API shows it, the due times it gives, and what an operator sees
//! when a year is missing or added.

use escalade::config::ServeSettings;
use serde_json::{Value, json};

use crate::helpers::{ESCALATIONS, spawn_app, spawn_app_with, timestamp};
use crate::world::World;

const POLICY: &str = "/v1/sla/policy";
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

    // (severity, category, submitted, due). Billing problems run 09:00–18:00 on business days:
    // the afternoon before National Day waits for October 8th, the make-up Saturday after it is a
    // working day. Technical ones run 09:00–24:00 every day, holidays included. Critical runs
    // around the clock.
    let technical = "product_bug";
    let billing = "billing_dispute";
    for (severity, category, from, due) in [
        (
            "moderate",
            billing,
            "2026-09-30T16:00:00+08:00",
            "2026-10-08T03:00:00Z",
        ),
        (
            "minimal",
            billing,
            "2026-10-09T17:00:00+08:00",
            "2026-10-10T08:00:00Z",
        ),
        (
            "moderate",
            billing,
            "2026-02-14T17:00:00+08:00",
            "2026-02-24T04:00:00Z",
        ),
        (
            "moderate",
            technical,
            "2026-10-03T22:00:00+08:00",
            "2026-10-04T03:00:00Z",
        ),
        (
            "minimal",
            technical,
            "2026-10-01T10:00:00+08:00",
            "2026-10-01T10:00:00Z",
        ),
        (
            "critical",
            technical,
            "2026-10-01T10:00:00+08:00",
            "2026-10-01T04:00:00Z",
        ),
        (
            "critical",
            technical,
            "2026-10-03T23:30:00+08:00",
            "2026-10-03T17:30:00Z",
        ),
    ] {
        // Act
        let params = [
            ("severity", severity),
            ("category", category),
            ("from", from),
        ];
        let answer = app.get_query(DUE, operator, &params).await;

        // Assert
        assert_eq!(answer.status, 200, "{}", answer.body);
        let due_at = timestamp(&answer.body["response_due_at"]);
        assert_eq!(
            due_at,
            timestamp(&json!(due)),
            "{severity} {category} {from}"
        );
        let warning_at = timestamp(&answer.body["warning_at"]);
        assert!(warning_at < due_at, "{severity} {from}");
    }
    let critical = app
        .get_query(DUE, operator, &[("severity", "critical")])
        .await;
    let window = json!({"days": "around_the_clock"});
    assert_eq!(critical.body["window"], window);
    assert_eq!(
        critical.body["category"],
        Value::Null,
        "technical when none is named"
    );
    let critical_billing = [("severity", "critical"), ("category", billing)];
    let refused = app.get_query(DUE, operator, &critical_billing).await;
    let reason = [("severity", "severity_not_for_category")];
    refused.case_refused("critical billing", 400, "invalid_query", &reason);
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
    let params = [
        ("severity", "moderate"),
        ("category", "billing_dispute"),
        ("from", &new_years_eve),
    ];
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

#[tokio::test]
async fn the_policy_is_published_in_words_and_each_escalation_keeps_the_window_it_ran_in() {
    // Arrange
    let world = World::new().await;
    let (app, key) = (&world.app, world.key());
    let in_chinese = |path: &str| {
        let request = app.request(reqwest::Method::GET, path, key);
        app.send(request.header("Accept-Language", "zh-CN"))
    };
    let mut critical_billing = world.body.clone();
    critical_billing["category"] = json!("billing_dispute");
    critical_billing["severity"] = json!("critical");

    // Act
    let english = app.read_ok(POLICY, key).await;
    let chinese = in_chinese(POLICY).await;
    let submitted = world.submit().await;
    let refused = app.post(ESCALATIONS, key, &critical_billing).await;

    // Assert
    let severities = english.body["severities"].as_array().unwrap();
    let names: Vec<&Value> = severities.iter().map(|s| &s["severity"]).collect();
    assert_eq!(
        names,
        [&json!("critical"), &json!("moderate"), &json!("minimal")]
    );
    assert_eq!(severities[0]["response_hours"], 2);
    assert_eq!(
        severities[0]["billing"],
        Value::Null,
        "billing is at most moderate"
    );
    let moderate = &severities[1];
    assert_eq!(moderate["response_hours"], 4);
    let daily = "every day, holidays included, 09:00 to 24:00 Beijing time";
    assert_eq!(moderate["technical"]["description"], daily);
    let business = "business days on China's calendar, 09:00 to 18:00 Beijing time";
    assert_eq!(moderate["billing"]["description"], business);
    let zh = &chinese.body["severities"][1];
    assert_eq!(
        zh["technical"]["description"],
        "每天（含节假日）北京时间 09:00 至 24:00"
    );
    assert_eq!(zh["billing"]["days"], "business_days");
    assert!(
        english.body["source"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://support.azure.cn/")
    );
    // A moderate technical escalation runs 09:00–24:00 every day, and says so.
    let window = json!({"days": "daily", "opens": "09:00", "closes": "24:00"});
    assert_eq!(submitted.body["sla"]["window"], window);
    assert_eq!(refused.status, 422, "{}", refused.body);
    let violation = refused.body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["criterion"] == "severity_entitlement")
        .expect("severity_entitlement fails");
    let message = violation["message"].as_str().unwrap();
    assert!(message.contains("billing, subscription and quota problems are escalated at severity B (moderate) at most"), "{message}");
}
