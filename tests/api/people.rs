//! People who sign in with their organisation's identity: bearer tokens from an OpenID Provider,
//! who they make a person, and what is refused. The provider here is a stand-in that publishes a
//! configuration document (a multi-tenant issuer with `{tenantid}`, as Entra ID's) and its keys,
//! and tokens are minted with the test keys in `people/` (made for these tests, never used
//! elsewhere). The browser suite signs people in through a real OpenID Provider.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use escalade::config::{AttachmentSettings, IdentitySettings, ServeSettings};
use escalade::startup::Application;
use escalade::storage::StoreLocation;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, TestApp, TestDatabase, escalation_path, spawn_app, test_keys, uuid,
};
use crate::world::World;

/// What tokens must be issued for.
const AUDIENCE: &str = "api://escalade-test";

const CURRENT: &str = "current";
const ROTATED: &str = "rotated";

fn private_key(kid: &str) -> &'static str {
    match kid {
        CURRENT => include_str!("people/current.pem"),
        _ => include_str!("people/rotated.pem"),
    }
}

fn public_jwk(kid: &str) -> Value {
    let text = match kid {
        CURRENT => include_str!("people/current.jwk.json"),
        _ => include_str!("people/rotated.jwk.json"),
    };
    serde_json::from_str(text).unwrap()
}

/// A stand-in OpenID Provider on loopback: its configuration document and the keys it publishes
/// (which a test may change), counting the fetches of its keys.
struct Provider {
    base: String,
    published: Arc<Mutex<Vec<Value>>>,
    key_fetches: Arc<AtomicUsize>,
    operator_tenant: Uuid,
}

impl Provider {
    async fn start() -> Provider {
        let published = Arc::new(Mutex::new(vec![public_jwk(CURRENT)]));
        let key_fetches = Arc::new(AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (keys, fetches, at) = (
            Arc::clone(&published),
            Arc::clone(&key_fetches),
            base.clone(),
        );
        let server = HttpServer::new(move || {
            let (keys, fetches, at) = (Arc::clone(&keys), Arc::clone(&fetches), at.clone());
            App::new()
                .route(
                    "/organizations/v2.0/.well-known/openid-configuration",
                    web::get().to({
                        let at = at.clone();
                        move || {
                            let at = at.clone();
                            async move {
                                HttpResponse::Ok().json(json!({
                                    "issuer": format!("{at}/{{tenantid}}/v2.0"),
                                    "jwks_uri": format!("{at}/discovery/v2.0/keys"),
                                    "authorization_endpoint": format!("{at}/organizations/oauth2/v2.0/authorize"),
                                    "token_endpoint": format!("{at}/organizations/oauth2/v2.0/token"),
                                }))
                            }
                        }
                    }),
                )
                .route(
                    "/discovery/v2.0/keys",
                    web::get().to(move || {
                        let (keys, fetches) = (Arc::clone(&keys), Arc::clone(&fetches));
                        async move {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            let keys = keys.lock().unwrap().clone();
                            HttpResponse::Ok().json(json!({ "keys": keys }))
                        }
                    }),
                )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Provider {
            base,
            published,
            key_fetches,
            operator_tenant: Uuid::new_v4(),
        }
    }

    fn settings(&self) -> IdentitySettings {
        IdentitySettings {
            oidc_metadata_url: Some(format!(
                "{}/organizations/v2.0/.well-known/openid-configuration",
                self.base
            )),
            oidc_audience: Some(AUDIENCE.to_owned()),
            operator_tenant_id: Some(self.operator_tenant),
            oidc_console_client_id: Some("console-test".to_owned()),
        }
    }

    fn issuer(&self, tenant: Uuid) -> String {
        format!("{}/{tenant}/v2.0", self.base)
    }

    /// The claims of a token for a person of `tenant` with `roles`, valid now for an hour.
    fn claims(&self, tenant: Uuid, roles: &[&str]) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.issuer(tenant), "aud": AUDIENCE, "tid": tenant, "oid": Uuid::new_v4(),
            "name": "张伟", "preferred_username": "zhang.wei@cloudbridge.cn", "roles": roles,
            "iat": now, "nbf": now - 5, "exp": now + 3600,
        })
    }

    /// `claims` signed with the test key `kid`.
    fn sign(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        let key = EncodingKey::from_rsa_pem(private_key(kid).as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// A signed token for a person of `tenant` with `roles`.
    fn token(&self, tenant: Uuid, roles: &[&str]) -> String {
        self.sign(CURRENT, &self.claims(tenant, roles))
    }

    fn publish(&self, kids: &[&str]) {
        *self.published.lock().unwrap() = kids.iter().map(|kid| public_jwk(kid)).collect();
    }
}

/// A server that signs people in with `provider`, with the usual cast.
async fn world_with(provider: &Provider) -> World {
    World::with(ServeSettings {
        identity: provider.settings(),
        ..ServeSettings::default()
    })
    .await
}

/// A token for a person of the world's partner, with the partner role.
fn partner_token(provider: &Provider, world: &World) -> String {
    provider.token(world.partner.tenant_id, &["Escalade.Partner"])
}

/// The id of the person a `GET /v1/me` answer names.
#[track_caller]
fn person_of(me: &Answer) -> Uuid {
    uuid(&me.body["person"]["id"])
}

/// How many people the database holds.
async fn people_count(app: &TestApp) -> usize {
    app.texts("SELECT name FROM people").await.len()
}

#[tokio::test]
async fn a_partners_person_signs_in_and_every_action_names_them() {
    // Arrange
    let provider = Provider::start().await;
    let world = world_with(&provider).await;
    let (app, token) = (&world.app, partner_token(&provider, &world));

    // Act
    let me = app.get("/v1/me", &token).await;
    let submitted = app.submit_escalation(&token, &world.body).await;
    let id = submitted.id();
    let note = app.add_note(&token, id, "客户补充了退信截图。").await;
    let events_path = format!("{}/events", escalation_path(id));
    let events = app.get(&events_path, &world.operator).await;
    let people = app.get("/v1/people", world.key()).await;
    let hidden_from_staff = app.get("/v1/people", &world.operator).await;

    // Assert
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["role"], "partner");
    assert_eq!(me.body["api_key"], Value::Null);
    assert_eq!(me.body["person"]["name"], "张伟");
    assert_eq!(me.body["person"]["email"], "zhang.wei@cloudbridge.cn");
    assert_eq!(me.body["partner"]["id"], json!(world.partner.id));
    let person_id = me.body["person"]["id"].clone();
    let actor = json!({"kind": "person", "id": person_id, "name": "张伟"});
    assert_eq!(note.body["author"], actor);
    for event in events.items() {
        assert_eq!(event["actor"]["kind"], "person", "{event}");
        assert_eq!(event["actor"]["id"], person_id, "{event}");
        assert_eq!(event["actor"]["name"], "张伟", "{event}");
        assert_eq!(event["actor"]["key_id"], Value::Null, "{event}");
    }
    let (items, partner) = (people.items(), &world.partner);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], person_id);
    assert_eq!(items[0]["role"], "partner");
    assert_eq!(items[0]["partner_id"], json!(partner.id));
    assert_eq!(items[0]["tenant_id"], json!(partner.tenant_id));
    let why = "a partner's people are its own";
    assert!(hidden_from_staff.items().is_empty(), "{why}");
    // A key's actions name the key.
    let by_key = app.add_note(world.key(), id, "系统自动备注。").await;
    assert_eq!(by_key.body["author"]["kind"], "api_key");
    assert_eq!(by_key.body["author"]["name"], "test partner");
}

#[tokio::test]
async fn staff_sign_in_from_21vianets_tenant_and_assign_themselves() {
    // Arrange
    let provider = Provider::start().await;
    let world = world_with(&provider).await;
    let staff = provider.operator_tenant;
    let operator = provider.token(staff, &["Escalade.Operator"]);
    let admin = provider.token(staff, &["Escalade.Operator", "Escalade.Admin"]);
    let (app, submitted) = (&world.app, world.submit().await);
    let start_by = |id| json!({"to": "in_progress", "engineer_person_id": id});
    let assigned_to = async |id: Uuid| {
        let id = id.to_string();
        app.get_query(ESCALATIONS, &operator, &[("engineer_person_id", &id)])
            .await
    };

    // Act
    let me = app.get("/v1/me", &operator).await;
    let person_id = person_of(&me);
    let started = app
        .transition(
            &operator,
            submitted.id(),
            &submitted.etag(),
            &start_by(person_id),
        )
        .await;
    let mine = assigned_to(person_id).await;
    let someone_elses = assigned_to(Uuid::new_v4()).await;
    let admin_me = app.get("/v1/me", &admin).await;
    let staff_people = app.get("/v1/people", &admin).await;
    let admins = app
        .get_query("/v1/people", &admin, &[("role", "admin")])
        .await;
    let partner_view = app
        .get(&format!("/v1/people/{person_id}"), world.key())
        .await;

    // Assert
    assert_eq!(me.body["role"], "operator", "{}", me.body);
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(
        started.body["engineer"],
        json!({"name": "张伟", "email": "zhang.wei@cloudbridge.cn", "phone": null, "person_id": person_id})
    );
    assert_eq!(mine.item_ids(), [submitted.id()]);
    assert!(someone_elses.items().is_empty());
    assert_eq!(admin_me.body["role"], "admin", "the higher role wins");
    assert_eq!(staff_people.items().len(), 2);
    assert_eq!(admins.items().len(), 1);
    partner_view.problem(404, "not_found");
    // Only 21Vianet's people can be the engineer, and only when work starts.
    let second = world
        .submit_edited(|body| body["category"] = json!("product_bug"))
        .await;
    let partners_person = person_of(&app.get("/v1/me", &partner_token(&provider, &world)).await);
    let refused = app
        .transition(
            &operator,
            second.id(),
            &second.etag(),
            &start_by(partners_person),
        )
        .await;
    refused.fields_refused(
        422,
        "validation_failed",
        &[("engineer_person_id", "unknown_engineer")],
    );
}

#[tokio::test]
async fn tokens_that_prove_nothing_are_401_count_as_failures_and_record_no_one() {
    // Arrange: one failure allowed per case below, then 429.
    let provider = Provider::start().await;
    let world = World::with(ServeSettings {
        identity: provider.settings(),
        auth_failures_per_minute: 14,
        ..ServeSettings::default()
    })
    .await;
    let tenant = world.partner.tenant_id;
    let claims = provider.claims(tenant, &["Escalade.Partner"]);
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut claims = claims.clone();
        edit(&mut claims);
        provider.sign(CURRENT, &claims)
    };
    let now = chrono::Utc::now().timestamp();
    let public_pem = include_str!("people/current.pub.pem");
    let hmac_with_the_public_key = jsonwebtoken::encode(
        &Header {
            kid: Some(CURRENT.to_owned()),
            ..Header::new(Algorithm::HS256)
        },
        &claims,
        &EncodingKey::from_secret(public_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let unsigned = {
        use base64::Engine;
        let part = |value: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
        };
        format!(
            "{}.{}.",
            part(json!({"alg": "none", "kid": CURRENT})),
            part(claims.clone())
        )
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "expired beyond the leeway",
            edited(&|c| c["exp"] = json!(now - 120)),
        ),
        ("not valid yet", edited(&|c| c["nbf"] = json!(now + 600))),
        (
            "no exp",
            edited(&|c| drop(c.as_object_mut().unwrap().remove("exp"))),
        ),
        (
            "no nbf",
            edited(&|c| drop(c.as_object_mut().unwrap().remove("nbf"))),
        ),
        (
            "for another API",
            edited(&|c| c["aud"] = json!("api://someone-else")),
        ),
        (
            "from another provider",
            edited(&|c| c["iss"] = json!("https://login.example.com/x/v2.0")),
        ),
        (
            "issued for another tenant",
            edited(&|c| c["iss"] = json!(provider.issuer(Uuid::new_v4()))),
        ),
        ("tid not a GUID", edited(&|c| c["tid"] = json!("contoso"))),
        ("oid not a GUID", edited(&|c| c["oid"] = json!("zhang.wei"))),
        ("alg none", unsigned),
        (
            "HMAC with the public key as its secret",
            hmac_with_the_public_key,
        ),
        (
            "signed with a key the provider never published",
            provider.sign(ROTATED, &claims),
        ),
        ("a signature of other claims", {
            let token = provider.sign(CURRENT, &claims);
            let other = provider.token(tenant, &["Escalade.Partner"]);
            let (head, _) = token.rsplit_once('.').unwrap();
            let (_, signature) = other.rsplit_once('.').unwrap();
            format!("{head}.{signature}")
        }),
        ("not a JWT", "eyJhbGciOiJSUzI1NiJ9.garbage".to_owned()),
    ];

    assert_eq!(cases.len(), 14);

    // Act
    let mut answers = Vec::new();
    for (label, token) in &cases {
        answers.push((label, world.app.get("/v1/me", token).await));
    }
    let one_too_many = world.app.get("/v1/me", &cases[0].1).await;

    // Assert
    for (label, answer) in answers {
        assert_eq!(answer.status, 401, "{label}: {}", answer.body);
        answer.problem(401, "unauthorized");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{label}");
    }
    one_too_many.problem(429, "too_many_failed_authentications");
    assert_eq!(people_count(&world.app).await, 0, "no one was recorded");
}

#[tokio::test]
async fn valid_tokens_of_tenants_or_roles_escalade_does_not_admit_are_403_and_record_no_one() {
    // Arrange
    let provider = Provider::start().await;
    let world = world_with(&provider).await;
    let (partner, staff) = (world.partner.tenant_id, provider.operator_tenant);
    let cases = [
        (
            "an unregistered tenant",
            Uuid::new_v4(),
            vec!["Escalade.Partner"],
            "tenant_not_registered",
        ),
        (
            "an operator role in a partner's tenant",
            partner,
            vec!["Escalade.Operator"],
            "role_not_allowed",
        ),
        ("no role", partner, vec![], "role_not_allowed"),
        (
            "a partner role in 21Vianet's tenant",
            staff,
            vec!["Escalade.Partner"],
            "role_not_allowed",
        ),
    ];

    // Act
    let mut answers = Vec::new();
    for (label, tenant, roles, code) in &cases {
        let token = provider.token(*tenant, roles);
        answers.push((label, code, world.app.get("/v1/me", &token).await));
    }

    // Assert
    for (label, code, answer) in answers {
        assert_eq!(answer.status, 403, "{label}: {}", answer.body);
        answer.problem(403, code);
    }
    assert_eq!(people_count(&world.app).await, 0, "no one was recorded");
}

#[tokio::test]
async fn a_rotated_key_works_within_seconds_and_unknown_keys_are_fetched_at_most_every_ten_seconds()
{
    // Arrange
    let provider = Provider::start().await;
    let world = world_with(&provider).await;
    let tenant = world.partner.tenant_id;
    let claims = provider.claims(tenant, &["Escalade.Partner"]);
    let current = provider.sign(CURRENT, &claims);
    assert_eq!(world.app.get("/v1/me", &current).await.status, 200);
    let fetched_before = provider.key_fetches.load(Ordering::SeqCst);

    // Act: the provider rotates to a new key; tokens signed with it arrive, every half second,
    // from the moment it is published.
    provider.publish(&[CURRENT, ROTATED]);
    let rotated = provider.sign(ROTATED, &claims);
    let started = std::time::Instant::now();
    let mut refused = 0;
    while world.app.get("/v1/me", &rotated).await.status != 200 {
        refused += 1;
        let why = "the rotated key was never taken";
        assert!(started.elapsed() < Duration::from_secs(15), "{why}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took = started.elapsed();
    let fetched_once = provider.key_fetches.load(Ordering::SeqCst);
    provider.publish(&[ROTATED]);
    let mut forged = claims.clone();
    forged["oid"] = json!(Uuid::new_v4());
    let mut unknown = Header::new(Algorithm::RS256);
    unknown.kid = Some("never-published".to_owned());
    let key = EncodingKey::from_rsa_pem(private_key(ROTATED).as_bytes()).unwrap();
    for _ in 0..3 {
        let token = jsonwebtoken::encode(&unknown, &forged, &key).unwrap();
        let answer = world.app.get("/v1/me", &token).await;
        answer.problem(401, "unauthorized");
    }

    // Assert: within the ten seconds after the keys were last fetched, unknown kids fetch
    // nothing; then one fetch takes the new key.
    assert!(
        took <= Duration::from_secs(11),
        "the rotated key took {took:?}"
    );
    assert_eq!(
        fetched_once,
        fetched_before + 1,
        "one fetch for {refused} refusals and an acceptance"
    );
    assert_eq!(
        provider.key_fetches.load(Ordering::SeqCst),
        fetched_once,
        "no more than one fetch every ten seconds"
    );
}

#[tokio::test]
async fn a_disabled_persons_tokens_are_refused_on_every_instance_within_two_seconds() {
    // Arrange
    let provider = Provider::start().await;
    let world = world_with(&provider).await;
    let (app, token) = (&world.app, partner_token(&provider, &world));
    let sibling = app.spawn_sibling();
    let id = person_of(&app.get("/v1/me", &token).await);
    assert_eq!(sibling.get("/v1/me", &token).await.status, 200);
    let act = async |id: Uuid, action: &str, key: &str| {
        let path = format!("/v1/people/{id}/{action}");
        app.post(&path, key, &json!({})).await
    };

    // Act
    let by_partner = act(id, "disable", world.key()).await;
    let disabled = act(id, "disable", &app.admin_key).await;
    let here = app.get("/v1/me", &token).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let there = sibling.get("/v1/me", &token).await;
    let enabled = act(id, "enable", &app.admin_key).await;
    let again = app.get("/v1/me", &token).await;

    // Assert
    by_partner.problem(403, "forbidden");
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert!(disabled.body["disabled_at"].is_string());
    here.problem(403, "person_disabled");
    there.problem(403, "person_disabled");
    assert_eq!(enabled.body["disabled_at"], Value::Null);
    assert_eq!(again.status, 200, "{}", again.body);
    let unknown = act(Uuid::new_v4(), "disable", &app.admin_key).await;
    unknown.problem(404, "not_found");
}

#[tokio::test]
async fn front_ends_learn_where_people_sign_in_without_a_key() {
    // Arrange
    let provider = Provider::start().await;
    let with_provider = world_with(&provider).await;
    let keys_only = spawn_app().await;

    // Act
    let ready = with_provider.app.get_anonymously("/readyz").await;
    let config = with_provider.app.get_anonymously("/v1/auth/config").await;
    let none = keys_only.get_anonymously("/v1/auth/config").await;

    // Assert
    assert_eq!(config.status, 200, "{}", config.body);
    let signed_in = &config.body["provider"];
    assert_eq!(signed_in["client_id"], "console-test");
    assert_eq!(signed_in["audience"], AUDIENCE);
    assert_eq!(signed_in["scope"], format!("{AUDIENCE}/.default"));
    let issuer = format!("{}/{{tenantid}}/v2.0", provider.base);
    assert_eq!(signed_in["issuer"], issuer);
    let metadata_url = signed_in["metadata_url"].as_str().unwrap();
    assert!(metadata_url.starts_with(&provider.base), "{metadata_url}");
    assert_eq!(none.status, 200);
    assert_eq!(none.body, json!({"provider": null}));
    let sign_in = &ready.body["details"]["people_sign_in"];
    assert_eq!(sign_in, "ready", "{}", ready.body);
}

#[tokio::test]
async fn a_partial_or_insecure_provider_configuration_stops_the_start() {
    let provider = Provider::start().await;
    let partial = IdentitySettings {
        oidc_audience: None,
        ..provider.settings()
    };
    let insecure = IdentitySettings {
        oidc_metadata_url: Some(
            "http://idp.internal/organizations/v2.0/.well-known/openid-configuration".to_owned(),
        ),
        ..provider.settings()
    };
    let database = TestDatabase::migrated().await;
    for (label, identity) in [("partial", partial), ("http to another host", insecure)] {
        let settings = ServeSettings {
            identity,
            bind: "127.0.0.1:0".parse().unwrap(),
            attachments: AttachmentSettings {
                attachment_store: Some(StoreLocation::Directory(
                    database.attachments.path().to_owned(),
                )),
                ..AttachmentSettings::default()
            },
            ..ServeSettings::default()
        };
        let refused = Application::build(&settings, database.db.clone(), test_keys())
            .err()
            .unwrap_or_else(|| panic!("{label}: the server must not start"));
        assert!(
            refused.to_string().contains("--oidc-metadata-url"),
            "{label}: {refused}"
        );
    }
}
