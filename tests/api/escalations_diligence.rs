//! The 21Vianet escalation criteria about what the partner must have done and said, through
//! `POST /v1/escalations`: a reason and a real justification, its own troubleshooting, no open
//! incident it has not explained, and a complete contact. Each failing alone is 422
//! `criteria_not_met` naming exactly that criterion, with a message saying what is missing.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{ESCALATIONS, assert_refused, incident_body, spawn_app, violation_message};

/// A change to a body, for tables of cases.
type Edit = Box<dyn Fn(&mut Value)>;

// ---------------------------------------------------------------------------------------------
// reason_given
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_reason_and_a_real_justification_are_required() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let nineteen: String = "需要服务端日志才能定位原因我们无权访问"
        .chars()
        .take(19)
        .collect();
    assert_eq!(nineteen.chars().count(), 19);
    let cases: Vec<(&str, Edit)> = vec![
        ("no reasons", Box::new(|b| b["reasons"] = json!([]))),
        (
            "reasons left out",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("reasons");
            }),
        ),
        (
            "justification left out",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("justification");
            }),
        ),
        (
            "justification null",
            Box::new(|b| b["justification"] = json!(null)),
        ),
        (
            "justification blank",
            Box::new(|b| b["justification"] = json!("     ")),
        ),
        (
            "19 characters",
            Box::new(move |b| b["justification"] = json!(nineteen.clone())),
        ),
        (
            "padding",
            Box::new(|b| {
                b["justification"] = json!("无法解决无法解决无法解决无法解决无法解决无法解决")
            }),
        ),
        (
            "padded with spaces",
            Box::new(|b| b["justification"] = json!(format!("日志{}日志", " ".repeat(30)))),
        ),
    ];

    for (case, edit) in cases {
        let mut body = fixture.body.clone();
        edit(&mut body);

        // Act
        let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

        // Assert
        answer.problem(422, "criteria_not_met");
        assert_eq!(
            answer.violations(),
            ["reason_given"],
            "{case}: {}",
            answer.body
        );
    }
    assert!(
        app.get(ESCALATIONS, &fixture.partner.key)
            .await
            .items()
            .is_empty()
    );
}

#[tokio::test]
async fn twenty_characters_of_eight_different_ones_are_a_justification() {
    // Arrange: Chinese characters count one each
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.edited(|body| {
        body["justification"] = json!("需要服务端日志才能定位原因我们无权访问它");
        body["reasons"] = json!([
            "lacks_training",
            "lacks_documentation",
            "lacks_support_tools"
        ]);
    });
    assert_eq!(body["justification"].as_str().unwrap().chars().count(), 20);

    // Act
    let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        answer.body["reasons"],
        json!([
            "lacks_training",
            "lacks_documentation",
            "lacks_support_tools"
        ])
    );
}

#[tokio::test]
async fn a_reason_given_twice_or_unknown_is_a_field_error() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    for reasons in [
        json!(["lacks_training", "lacks_training"]),
        json!(["lacks_patience"]),
    ] {
        let body = fixture.edited(|body| body["reasons"] = reasons.clone());

        // Act
        let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields().len(), 1, "{}", answer.body);
        assert!(answer.error_fields()[0].starts_with("reasons"), "{reasons}");
    }
}

// ---------------------------------------------------------------------------------------------
// partner_troubleshooting
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_partner_must_troubleshoot_first() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let now = Utc::now();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "admin center not tried",
            json!({"service_health_checked_at": now - Duration::hours(1), "admin_center_attempted": false, "steps": ["诊断"]}),
            "admin center",
        ),
        (
            "admin center not said",
            json!({"service_health_checked_at": now - Duration::hours(1), "steps": ["诊断"]}),
            "admin center",
        ),
        (
            "no steps",
            json!({"service_health_checked_at": now - Duration::hours(1), "admin_center_attempted": true, "steps": []}),
            "step",
        ),
        (
            "steps left out",
            json!({"service_health_checked_at": now - Duration::hours(1), "admin_center_attempted": true}),
            "step",
        ),
        (
            "health checked 25 hours ago",
            json!({"service_health_checked_at": now - Duration::hours(25), "admin_center_attempted": true, "steps": ["诊断"]}),
            "24 hours",
        ),
        (
            "health check in the future",
            json!({"service_health_checked_at": now + Duration::hours(1), "admin_center_attempted": true, "steps": ["诊断"]}),
            "future",
        ),
        (
            "health never checked",
            json!({"admin_center_attempted": true, "steps": ["诊断"]}),
            "service health",
        ),
    ];

    for (case, troubleshooting, hint) in cases {
        let body = fixture.edited(|body| body["troubleshooting"] = troubleshooting);

        // Act
        let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

        // Assert
        answer.problem(422, "criteria_not_met");
        assert_eq!(
            answer.violations(),
            ["partner_troubleshooting"],
            "{case}: {}",
            answer.body
        );
        assert!(
            violation_message(&answer, "partner_troubleshooting").contains(hint),
            "{case}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn every_missing_troubleshooting_step_is_named_in_one_message() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.edited(|body| {
        body["troubleshooting"] = json!({"admin_center_attempted": false, "steps": []});
    });

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["partner_troubleshooting"]).await;

    // Assert
    let message = violation_message(&answer, "partner_troubleshooting");
    for hint in ["admin center", "step", "service health"] {
        assert!(message.contains(hint), "{hint}: {message}");
    }
}

#[tokio::test]
async fn a_health_check_within_24_hours_or_a_little_ahead_passes() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    for (category, checked) in [
        ("service_unavailable", Utc::now() - Duration::hours(23)),
        ("product_bug", Utc::now() + Duration::minutes(2)),
    ] {
        let body = fixture.edited(|body| {
            body["category"] = json!(category);
            body["troubleshooting"]["service_health_checked_at"] = json!(checked);
        });

        // Act
        let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

        // Assert
        assert_eq!(answer.status, 201, "{checked}: {}", answer.body);
    }
}

// ---------------------------------------------------------------------------------------------
// no_active_incident
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_open_incident_on_the_service_blocks_escalation() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("microsoft-365"))
        .await;

    // Act
    let answer = assert_refused(
        &app,
        &fixture.partner,
        &fixture.body,
        &["no_active_incident"],
    )
    .await;

    // Assert
    assert!(
        violation_message(&answer, "no_active_incident").contains(&incident.id().to_string()),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn an_open_incident_named_as_unrelated_does_not_block() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let first = app
        .create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    let second = app
        .create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    let only_one = fixture.edited(|body| {
        body["unrelated_incident_ids"] = json!([first.id()]);
    });
    let both = fixture.edited(|body| {
        body["unrelated_incident_ids"] = json!([first.id(), second.id()]);
    });

    // Act
    let refused = assert_refused(&app, &fixture.partner, &only_one, &["no_active_incident"]).await;
    let accepted = app.post(ESCALATIONS, &fixture.partner.key, &both).await;

    // Assert
    let message = violation_message(&refused, "no_active_incident");
    assert!(message.contains(&second.id().to_string()), "{message}");
    assert!(!message.contains(&first.id().to_string()), "{message}");
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(
        accepted.body["unrelated_incident_ids"],
        json!([first.id(), second.id()])
    );
}

#[tokio::test]
async fn a_resolved_incident_or_one_on_another_service_does_not_count() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    app.move_incident(&operator, &incident, "resolved").await;
    app.create_incident(&operator, &incident_body("azure"))
        .await;

    // Act
    let answer = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[tokio::test]
async fn a_mitigating_incident_is_still_open() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    app.move_incident(&operator, &incident, "mitigating").await;

    // Act & Assert
    assert_refused(
        &app,
        &fixture.partner,
        &fixture.body,
        &["no_active_incident"],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// contact_complete
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_partner_contact_must_be_complete() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    for missing in [
        "first_name",
        "last_name",
        "email",
        "preferred_contact_method",
    ] {
        let body = fixture.edited(|body| {
            body["contact"].as_object_mut().unwrap().remove(missing);
        });

        // Act
        let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

        // Assert
        answer.problem(422, "criteria_not_met");
        assert_eq!(
            answer.violations(),
            ["contact_complete"],
            "{missing}: {}",
            answer.body
        );
        assert!(
            violation_message(&answer, "contact_complete").contains(missing),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn a_contact_by_phone_needs_a_phone_number() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.edited(|body| {
        body["contact"].as_object_mut().unwrap().remove("phone");
    });

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["contact_complete"]).await;

    // Assert
    assert!(violation_message(&answer, "contact_complete").contains("phone"));
}

#[tokio::test]
async fn a_malformed_contact_field_is_a_field_error_not_a_criterion() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.edited(|body| {
        body["contact"]["phone"] = json!("call me");
        body["contact"]["preferred_contact_method"] = json!("pigeon");
    });

    // Act
    let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        ["contact.phone", "contact.preferred_contact_method"]
    );
}
