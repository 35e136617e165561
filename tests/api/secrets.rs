//! No secret is readable from the database: API keys are kept as digests, webhook signing
//! secrets sealed under the deployment's secret key, and idempotent answers (which show new
//! keys and secrets) sealed under a key derived from the idempotency key, which the database
//! never holds. A copy of the database alone yields no working key and signs nothing.

use escalade::config::{ServeSettings, WebhookSettings};
use escalade::domain::sealing::{KeyRing, SecretKey};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{TestApp, post_keyed, test_keys};
use crate::webhooks::receiver::{Receiver, Script};
use crate::webhooks::{
    ENDPOINTS, create_endpoint, deliveries, endpoint_path, eventually, fast_webhooks, secret,
    spawn_webhook_app, spawn_webhook_app_with, uuid,
};

/// Every stored value that could hold a secret, as text.
async fn what_the_database_holds(app: &TestApp) -> String {
    let mut held = Vec::new();
    for sql in [
        "SELECT key_digest FROM idempotency_records",
        "SELECT fingerprint FROM idempotency_records",
        "SELECT CAST(response_headers AS TEXT) FROM idempotency_records",
        "SELECT response_body FROM idempotency_records",
        "SELECT secret FROM webhook_endpoints",
        "SELECT previous_secret FROM webhook_endpoints",
        "SELECT secret_hash FROM api_keys",
        "SELECT prefix FROM api_keys",
    ] {
        held.extend(app.texts(sql).await);
    }
    held.join("\n")
}

#[tokio::test]
async fn keys_and_signing_secrets_shown_once_cannot_be_read_back_from_the_database() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("Sealed").await;
    let admin_body = json!({"role": "admin", "name": "night shift"});
    let partner_body = json!({"role": "partner", "partner_id": partner.id, "name": "ticketing"});
    let endpoint_body = json!({"url": "http://127.0.0.1:9/hook", "events": ["escalation.created"]});

    // Act: every answer that shows a secret, sent with an Idempotency-Key.
    let admin_key = post_keyed(
        &app,
        "/v1/api-keys",
        &app.admin_key,
        "admin-key-1",
        &admin_body,
    )
    .await;
    let partner_key = post_keyed(
        &app,
        "/v1/api-keys",
        &partner.key,
        "partner-key-1",
        &partner_body,
    )
    .await;
    let endpoint = post_keyed(&app, ENDPOINTS, &partner.key, "endpoint-1", &endpoint_body).await;
    let id = uuid(&endpoint.body["id"]);
    let rotate_path = format!("{}/rotate-secret", endpoint_path(id));
    let rotated = app
        .send(
            app.request(Method::POST, &rotate_path, &partner.key)
                .header("Idempotency-Key", "rotate-1")
                .header("If-Match", endpoint.etag()),
        )
        .await;

    // Assert: nothing the database holds is, or contains, a secret or an idempotency key.
    let shown = [
        admin_key.body["key"].as_str().unwrap().to_owned(),
        partner_key.body["key"].as_str().unwrap().to_owned(),
        secret(&endpoint),
        secret(&rotated),
    ];
    let held = what_the_database_holds(&app).await;
    for secret in &shown {
        let random_part = secret.split_once('_').unwrap().1;
        assert!(!held.contains(random_part), "the database holds {secret}");
    }
    for idempotency_key in ["admin-key-1", "partner-key-1", "endpoint-1", "rotate-1"] {
        assert!(
            !held.contains(idempotency_key),
            "the database holds {idempotency_key}"
        );
    }
    // …while the caller who holds the idempotency key still gets its answer again.
    let replays = [
        post_keyed(
            &app,
            "/v1/api-keys",
            &app.admin_key,
            "admin-key-1",
            &admin_body,
        )
        .await,
        post_keyed(
            &app,
            "/v1/api-keys",
            &partner.key,
            "partner-key-1",
            &partner_body,
        )
        .await,
        post_keyed(&app, ENDPOINTS, &partner.key, "endpoint-1", &endpoint_body).await,
    ];
    for (replay, original) in replays.iter().zip([&admin_key, &partner_key, &endpoint]) {
        assert_eq!(replay.header("idempotency-replayed"), Some("true"));
        assert_eq!(replay.body, original.body);
    }
    // The key shown is a working key.
    let me = app.get("/v1/me", shown[1].as_str()).await;
    assert_eq!(me.status, 200, "{}", me.body);
}

#[tokio::test]
async fn a_copy_of_the_database_without_the_secret_key_signs_nothing() {
    // Arrange: the deployment keeps its own deliveries off; a stranger with the database but
    // another secret key delivers.
    let receiver = Receiver::start(Script::Always(204));
    let app = spawn_webhook_app_with(WebhookSettings {
        no_webhook_delivery: true,
        ..fast_webhooks()
    })
    .await;
    let stranger = app.spawn_stranger(
        ServeSettings {
            webhooks: fast_webhooks(),
            ..ServeSettings::default()
        },
        test_keys(),
    );
    let partner = app.create_partner("Signed").await;
    let endpoint = create_endpoint(
        &app,
        &partner.key,
        &receiver.url(),
        &["service_incident.created"],
    )
    .await;
    let endpoint_id = uuid(&endpoint.body["id"]);

    // Act
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &crate::helpers::incident_body("azure"))
        .await;
    assert_eq!(incident.status, 201, "{}", incident.body);

    // Assert: the stranger tried, could not sign, and sent nothing.
    let attempt = eventually("an attempt by the stranger", async || {
        let deliveries = deliveries(&app, &partner.key, endpoint_id).await;
        let attempts = deliveries.first()?["attempts"].as_array()?.clone();
        attempts.first().cloned()
    })
    .await;
    assert!(
        attempt["error"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot sign"),
        "{attempt}"
    );
    assert_eq!(receiver.count(), 0);
    drop(stranger);
}

#[tokio::test]
async fn after_a_rotation_rewrap_seals_every_secret_under_the_new_key() {
    // Arrange: a secret sealed under the deployment's key, then a new key put first.
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("Rotating").await;
    let endpoint = create_endpoint(
        &app,
        &partner.key,
        "http://127.0.0.1:9/hook",
        &["escalation.created"],
    )
    .await;
    let new_key = SecretKey::generate();
    let ring = format!("{},{}", new_key.encode(), app.keys.current().encode());

    // Act
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_escalade"))
        .env("ESCALADE_DATABASE_URL", app.database_url())
        .env("ESCALADE_SECRET_KEY", ring)
        .args(["secret-key", "rewrap"])
        .output()
        .unwrap();

    // Assert: the new key alone now opens the secret, which is the one shown at creation.
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 webhook endpoint(s)"));
    let row = escalade::entity::webhook_endpoint::Entity::find_by_id(uuid(&endpoint.body["id"]))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let only_new = KeyRing::new(new_key, Vec::new());
    let secrets = escalade::store::webhooks::secrets_in_force(&only_new, &row, chrono::Utc::now())
        .expect("the new key opens it");
    assert_eq!(secrets[0].as_str(), secret(&endpoint));
    assert!(
        escalade::store::webhooks::secrets_in_force(&app.keys, &row, chrono::Utc::now()).is_err()
    );
}
