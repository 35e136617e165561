//! No secret is readable from the database: API keys are kept as digests, webhook signing
//! secrets sealed under the deployment's secret key, and idempotent answers (which show new
//! keys and secrets) sealed under a key derived from the idempotency key, which the database
//! never holds. A copy of the database alone yields no working key and signs nothing.

use escalade::config::{ServeSettings, WebhookSettings};
use escalade::domain::sealing::{KeyRing, SecretKey};
use escalade::entity::webhook_endpoint;
use escalade::store::webhooks::secrets_in_force;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{TestApp, incident_body, post_keyed, test_keys};
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
async fn keys_and_signing_secrets_shown_once_cannot_be_read_back_and_a_new_secret_key_reseals_them()
{
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("Sealed").await;
    let (admin, keys) = (app.admin_key.as_str(), "/v1/api-keys");
    let shows_a_secret = [
        (
            keys,
            admin,
            "admin-key-1",
            json!({"role": "admin", "name": "night shift"}),
        ),
        (
            keys,
            &partner.key,
            "partner-key-1",
            json!({"role": "partner", "partner_id": partner.id, "name": "ticketing"}),
        ),
        (
            ENDPOINTS,
            &partner.key,
            "endpoint-1",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["escalation.created"]}),
        ),
    ];

    // Act: every answer that shows a secret, sent with an Idempotency-Key.
    let mut created = Vec::new();
    for (path, key, idempotency_key, body) in &shows_a_secret {
        created.push(post_keyed(&app, path, key, idempotency_key, body).await);
    }
    let endpoint = &created[2];
    let rotate_path = format!(
        "{}/rotate-secret",
        endpoint_path(uuid(&endpoint.body["id"]))
    );
    let rotate = app.request(Method::POST, &rotate_path, &partner.key);
    let rotate = rotate.header("Idempotency-Key", "rotate-1");
    let rotated = app.send(rotate.header("If-Match", endpoint.etag())).await;

    // Assert: nothing the database holds is, or contains, a secret or an idempotency key.
    let shown = [
        created[0].body["key"].as_str().unwrap().to_owned(),
        created[1].body["key"].as_str().unwrap().to_owned(),
        secret(endpoint),
        secret(&rotated),
    ];
    let held = what_the_database_holds(&app).await;
    for secret in &shown {
        let random_part = secret.split_once('_').unwrap().1;
        assert!(!held.contains(random_part), "the database holds {secret}");
    }
    for idempotency_key in ["admin-key-1", "partner-key-1", "endpoint-1", "rotate-1"] {
        let held = held.contains(idempotency_key);
        assert!(!held, "the database holds {idempotency_key}");
    }
    // …while the caller who holds the idempotency key still gets its answer again.
    for ((path, key, idempotency_key, body), original) in shows_a_secret.iter().zip(&created) {
        let replay = post_keyed(&app, path, key, idempotency_key, body).await;
        let replayed = replay.header("idempotency-replayed");
        assert_eq!(replayed, Some("true"), "{idempotency_key}");
        assert_eq!(replay.body, original.body, "{idempotency_key}");
    }
    // The key shown is a working key.
    app.read_ok("/v1/me", shown[1].as_str()).await;

    // Act: the deployment's secret key rotated, a new key put first, and every secret rewrapped.
    let new_key = SecretKey::generate();
    let ring = format!("{},{}", new_key.encode(), app.keys.current().encode());
    let output = crate::cli::binary()
        .env("ESCALADE_DATABASE_URL", app.database_url())
        .env("ESCALADE_SECRET_KEY", ring)
        .args(["secret-key", "rewrap"])
        .output()
        .unwrap();

    // Assert: the new key alone now opens the secret, which is the one shown last.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 webhook endpoint(s)"));
    let row = webhook_endpoint::Entity::find_by_id(uuid(&endpoint.body["id"]));
    let row = row.one(&app.db).await.unwrap().unwrap();
    let now = chrono::Utc::now();
    let only_new = KeyRing::new(new_key, Vec::new());
    let secrets = secrets_in_force(&only_new, &row, now).expect("the new key opens it");
    assert_eq!(secrets[0].as_str(), shown[3]);
    assert!(secrets_in_force(&app.keys, &row, now).is_err());
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
    app.create_incident(&operator, &incident_body("azure"))
        .await;

    // Assert: the stranger tried, could not sign, and sent nothing.
    let attempt = eventually("an attempt by the stranger", async || {
        let deliveries = deliveries(&app, &partner.key, endpoint_id).await;
        let attempts = deliveries.first()?["attempts"].as_array()?.clone();
        attempts.first().cloned()
    })
    .await;
    let error = attempt["error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot sign"), "{attempt}");
    assert_eq!(receiver.count(), 0);
    drop(stranger);
}
