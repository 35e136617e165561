//! `POST /v1/escalations/validate`: the dry run that shows the partner every criterion's outcome
//! as it types, and writes nothing.

use serde_json::json;

use crate::helpers::{ESCALATIONS, spawn_app};

/// The twelve criteria, in the order of the table in DESIGN.md.
const CRITERIA: [&str; 12] = [
    "customer_relationship",
    "not_partner_tenant",
    "service_escalatable",
    "active_subscription",
    "escalatable_category",
    "reason_given",
    "partner_troubleshooting",
    "no_active_incident",
    "severity_entitlement",
    "contact_complete",
    "no_duplicate",
    "partner_in_good_standing",
];

/// Every escalation visible to `key`, newest first.
async fn all_numbers(app: &crate::helpers::TestApp, key: &str) -> Vec<serde_json::Value> {
    app.get_query(ESCALATIONS, key, &[("order", "newest")])
        .await
        .items()
        .iter()
        .map(|e| e["number"].clone())
        .collect()
}

#[tokio::test]
async fn validate_lists_every_criterion_passed_for_a_good_body() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    // Act
    let answer = app
        .post(
            &format!("{ESCALATIONS}/validate"),
            &fixture.partner.key,
            &fixture.body,
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["eligible"], true);
    let checks = answer.body["checks"].as_array().expect("checks");
    let criteria: Vec<&str> = checks
        .iter()
        .map(|c| c["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(criteria, CRITERIA);
    for check in checks {
        assert_eq!(check["outcome"], "passed", "{check}");
        assert!(
            check["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{check}"
        );
    }
}

#[tokio::test]
async fn validate_shows_which_criteria_fail_for_a_bad_body() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let mut body = fixture.body.clone();
    body["category"] = json!("how_to");
    body["severity"] = json!("critical");
    body["troubleshooting"]["admin_center_attempted"] = json!(false);

    // Act
    let answer = app
        .post(
            &format!("{ESCALATIONS}/validate"),
            &fixture.partner.key,
            &body,
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["eligible"], false);
    let checks = answer.body["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 12);
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "escalatable_category",
            "partner_troubleshooting",
            "severity_entitlement"
        ]
    );
    for check in checks {
        assert!(
            check["outcome"] == "passed" || check["outcome"] == "failed",
            "{check}"
        );
        assert!(
            check["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{check}"
        );
    }
    let troubleshooting = checks
        .iter()
        .find(|c| c["criterion"] == "partner_troubleshooting")
        .unwrap();
    assert!(
        troubleshooting["message"]
            .as_str()
            .unwrap()
            .contains("admin center"),
        "{troubleshooting}"
    );
}

#[tokio::test]
async fn validate_writes_nothing_and_consumes_no_number() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    // Act
    for _ in 0..3 {
        let answer = app
            .post(
                &format!("{ESCALATIONS}/validate"),
                &fixture.partner.key,
                &fixture.body,
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["eligible"], true);
    }

    // Assert
    assert!(all_numbers(&app, &fixture.partner.key).await.is_empty());
    assert!(all_numbers(&app, &app.admin_key).await.is_empty());
    let first = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    assert_eq!(first.body["number"], "ESC-000001");
}

#[tokio::test]
async fn validate_for_another_partners_customer_fails_customer_relationship() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let other = app.create_partner("Other partner").await;

    // Act
    let answer = app
        .post(
            &format!("{ESCALATIONS}/validate"),
            &other.key,
            &fixture.body,
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["eligible"], false);
    let checks = answer.body["checks"].as_array().unwrap();
    assert_eq!(checks[0]["criterion"], "customer_relationship");
    assert_eq!(checks[0]["outcome"], "failed");
    assert!(
        !checks[0]["message"]
            .as_str()
            .unwrap()
            .contains(&fixture.customer_id.to_string()),
        "nothing of the other partner's customer is revealed"
    );
}

#[tokio::test]
async fn validate_also_sees_an_open_duplicate() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let open = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;

    // Act
    let answer = app
        .post(
            &format!("{ESCALATIONS}/validate"),
            &fixture.partner.key,
            &fixture.body,
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["eligible"], false);
    let duplicate = answer.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["criterion"] == "no_duplicate")
        .unwrap();
    assert_eq!(duplicate["outcome"], "failed");
    assert!(
        duplicate["message"]
            .as_str()
            .unwrap()
            .contains(open.body["number"].as_str().unwrap()),
        "{duplicate}"
    );
}
