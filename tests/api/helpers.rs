//! `spawn_app()`: the real server on port 0 over a fresh database, with typed helpers.
//!
//! The engine comes from `ESCALADE_TEST_DATABASE_URL`: unset, each test gets a SQLite file in a
//! temporary directory; a `postgres://` URL (of a maintenance database such as `postgres`), each
//! test gets a database of its own, dropped when the test ends.

use std::sync::{Arc, Once};

use escalade::config::{DatabaseSettings, ServeSettings};
use escalade::domain::sealing::{KeyRing, SecretKey};
use escalade::domain::{DisplayName, Role};
use escalade::http::api_keys::issue;
use escalade::startup::Application;
use escalade::storage::StoreLocation;
use escalade::store::api_keys::NewApiKey;
use reqwest::{Method, RequestBuilder, Response};
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

pub const TEST_DATABASE_ENV: &str = "ESCALADE_TEST_DATABASE_URL";

static LOGS: Once = Once::new();

/// Records every SQL statement by request (see `sql_log`); logs only when `TEST_LOG` is set (to
/// a filter such as `info`), so test output stays readable.
fn init_logs() {
    LOGS.call_once(crate::sql_log::install);
}

/// A fresh, migrated database that disappears with this value.
pub struct TestDatabase {
    pub settings: DatabaseSettings,
    pub db: DatabaseConnection,
    /// The secret key of the deployment this database belongs to, as `ESCALADE_SECRET_KEY`
    /// takes it: every instance started over the database shares it.
    pub secret_key: String,
    /// The deployment's attachment store, a directory every instance shares.
    pub attachments: tempfile::TempDir,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

fn settings_for(url: String) -> DatabaseSettings {
    DatabaseSettings {
        database_url: Some(url),
        db_max_connections: 5,
        ..DatabaseSettings::default()
    }
}

impl TestDatabase {
    /// A fresh, empty database (no migrations applied).
    pub async fn empty() -> Self {
        Self::empty_with(|_| {}).await
    }

    /// A fresh, empty database whose pool is opened with `tune` applied to the test settings
    /// (timeouts, say).
    pub async fn empty_with(tune: impl FnOnce(&mut DatabaseSettings)) -> Self {
        Self::create(tune, false).await
    }

    /// A fresh database on the suite's engine, migrated when `migrated` says so.
    async fn create(tune: impl FnOnce(&mut DatabaseSettings), migrated: bool) -> Self {
        match std::env::var(TEST_DATABASE_ENV) {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                Self::create_on_postgres(admin_url, tune, migrated).await
            }
            Ok(other) if !other.is_empty() => {
                panic!("{TEST_DATABASE_ENV} must be a postgres:// URL, got {other}")
            }
            _ => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let mut settings = settings_for(format!(
                    "sqlite://{}",
                    dir.path().join("escalade.db").display()
                ));
                tune(&mut settings);
                let db = escalade::store::connect(&settings)
                    .await
                    .expect("opens SQLite");
                if migrated {
                    escalade::store::migrate(&db)
                        .await
                        .expect("migrations apply");
                }
                Self::holding(settings, db, Cleanup::Sqlite(dir))
            }
        }
    }

    /// A fresh database on the PostgreSQL server whose maintenance database is `admin_url`; a
    /// migrated one is a copy of a migrated template (see [`postgres_template`]), which costs a
    /// quarter of migrating it.
    async fn create_on_postgres(
        admin_url: String,
        tune: impl FnOnce(&mut DatabaseSettings),
        migrated: bool,
    ) -> Self {
        let name = format!("escalade_test_{}", Uuid::new_v4().simple());
        // One connection, so that the template's advisory lock is held and released on the same
        // session.
        let admin_settings = DatabaseSettings {
            db_max_connections: 1,
            ..settings_for(admin_url.clone())
        };
        let admin = escalade::store::connect(&admin_settings)
            .await
            .unwrap_or_else(|err| panic!("PostgreSQL at {admin_url} is reachable: {err}"));
        let create = if migrated {
            let template = postgres_template(&admin, &admin_url).await;
            format!("CREATE DATABASE {name} TEMPLATE {template}")
        } else {
            format!("CREATE DATABASE {name}")
        };
        admin
            .execute_unprepared(&create)
            .await
            .expect("can create a test database");
        admin.close().await.ok();
        let mut settings = settings_for(replace_database(&admin_url, &name));
        tune(&mut settings);
        let db = escalade::store::connect(&settings)
            .await
            .expect("connects to the test database");
        Self::holding(settings, db, Cleanup::Postgres { admin_url, name })
    }

    fn holding(settings: DatabaseSettings, db: DatabaseConnection, cleanup: Cleanup) -> Self {
        TestDatabase {
            settings,
            db,
            secret_key: SecretKey::generate().encode(),
            attachments: tempfile::tempdir().expect("a temporary directory"),
            cleanup,
        }
    }

    /// A fresh database with every migration applied.
    pub async fn migrated() -> Self {
        Self::migrated_with(|_| {}).await
    }

    /// As [`TestDatabase::migrated`], its pool opened with `tune` applied.
    pub async fn migrated_with(tune: impl FnOnce(&mut DatabaseSettings)) -> Self {
        Self::create(tune, true).await
    }

    /// A fresh, migrated database on PostgreSQL whatever the suite's engine, on the server whose
    /// maintenance database is `admin_url`, its pool opened with `tune` applied.
    pub async fn migrated_on_postgres(
        admin_url: String,
        tune: impl FnOnce(&mut DatabaseSettings),
    ) -> Self {
        Self::create_on_postgres(admin_url, tune, true).await
    }

    pub fn url(&self) -> String {
        self.settings.url()
    }
}

/// The migrated database every PostgreSQL test database is copied from, named after the
/// migrations it holds (`escalade_template_<hash>`), and made by the first test that needs it
/// (in any process: an advisory lock keeps two from making it at once). Templates of other
/// migrations are dropped then, so a server keeps one.
async fn postgres_template(admin: &DatabaseConnection, admin_url: &str) -> String {
    use migration::MigratorTrait;
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for migration in migration::Migrator::migrations() {
        migration.name().hash(&mut hasher);
    }
    let template = format!("escalade_template_{:016x}", hasher.finish());
    let run = |sql: String| async move {
        admin
            .execute_unprepared(&sql)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    };
    let lock = "SELECT pg_advisory_lock(20261207)".to_owned();
    run(lock).await;
    let backend = admin.get_database_backend();
    let existing = admin
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT datname FROM pg_database WHERE datname LIKE 'escalade_template_%'",
        ))
        .await
        .expect("the databases are listed");
    let names: Vec<String> = existing
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect();
    if !names.contains(&template) {
        for stale in &names {
            run(format!("DROP DATABASE IF EXISTS {stale} WITH (FORCE)")).await;
        }
        let building = format!("{template}_building");
        run(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).await;
        run(format!("CREATE DATABASE {building}")).await;
        let db = escalade::store::connect(&settings_for(replace_database(admin_url, &building)))
            .await
            .expect("connects to the template");
        escalade::store::migrate(&db)
            .await
            .expect("migrations apply");
        db.close().await.ok();
        // Renamed only once whole: a template by its final name is always complete.
        run(format!("ALTER DATABASE {building} RENAME TO {template}")).await;
    }
    run("SELECT pg_advisory_unlock(20261207)".to_owned()).await;
    template
}

/// `postgres://user@host:port/old?opts` with the database name replaced.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let admin_url = admin_url.clone();
            // Drop runs outside async code: a thread of its own gets a runtime for the cleanup.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let admin = escalade::store::connect(&settings_for(admin_url))
                        .await
                        .ok()?;
                    admin.execute_unprepared(&drop).await.ok()?;
                    admin.close().await.ok()
                })
            })
            .join();
            if !matches!(dropped, Ok(Some(()))) {
                eprintln!("warning: test database {name} was not dropped");
            }
        }
    }
}

/// A running server's API as a client calls it: over HTTP, following no redirect.
#[derive(Clone)]
pub struct Api {
    pub address: String,
    pub client: reqwest::Client,
}

pub struct TestApp {
    pub api: Api,
    pub db: DatabaseConnection,
    pub admin_key: String,
    /// The deployment's secret keys, which every instance of it shares.
    pub keys: KeyRing,
    /// What the server was started with, so a sibling can start alike.
    settings: ServeSettings,
    /// Keeps the database alive (and drops it) with the last app that uses it.
    database: Arc<TestDatabase>,
}

/// Starts the server on port 0 with a fresh migrated database and an admin key.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(ServeSettings::default()).await
}

pub async fn spawn_app_with(settings: ServeSettings) -> TestApp {
    spawn_app_over(settings, |_| {}).await
}

/// Starts the server with `settings` over a fresh database whose pool has `tune` applied to
/// its settings (a shorter lock wait or statement timeout, say).
pub async fn spawn_app_over(
    settings: ServeSettings,
    tune: impl FnOnce(&mut DatabaseSettings),
) -> TestApp {
    spawn_app_on(TestDatabase::migrated_with(tune).await, settings).await
}

/// Starts the server with `settings` over `database`, which the caller made (on PostgreSQL
/// whatever the suite's engine, say).
pub async fn spawn_app_on(database: TestDatabase, mut settings: ServeSettings) -> TestApp {
    init_logs();
    let admin_key = issue_key(&database.db, Role::Admin, None).await;
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.workers = Some(2);
    let keys = KeyRing::parse(&database.secret_key).expect("the test database's key");
    start(settings, Arc::new(database), admin_key, keys)
}

/// A fresh key ring, as a deployment keeps outside its database.
pub fn test_keys() -> KeyRing {
    KeyRing::new(SecretKey::generate(), Vec::new())
}

/// Starts a server with `settings` over `database`.
fn start(
    settings: ServeSettings,
    database: Arc<TestDatabase>,
    admin_key: String,
    keys: KeyRing,
) -> TestApp {
    let db = database.db.clone();
    let mut settings = settings;
    if settings.attachments.attachment_store.is_none() {
        settings.attachments.attachment_store = Some(StoreLocation::Directory(
            database.attachments.path().to_owned(),
        ));
    }
    let app = Application::build(&settings, db.clone(), keys.clone()).expect("the server binds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        api: Api::at(format!("http://127.0.0.1:{port}")),
        db,
        admin_key,
        keys,
        settings,
        database,
    }
}

/// Issues a key straight through the store, as `escalade api-key create` does.
pub async fn issue_key(db: &DatabaseConnection, role: Role, partner_id: Option<Uuid>) -> String {
    let new = NewApiKey {
        name: DisplayName::parse(&format!("test {role}")).unwrap(),
        role,
        partner_id,
    };
    issue(db, new)
        .await
        .expect("the key is issued")
        .secret
        .secret
}

/// A partner with its own key.
pub struct TestPartner {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub key: String,
}

/// A response read whole, for assertions.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn read(response: Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn etag(&self) -> String {
        self.header("etag").expect("an ETag").to_owned()
    }

    #[track_caller]
    pub fn id(&self) -> Uuid {
        uuid(&self.body["id"])
    }

    /// Asserts a problem document with this status and code, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem documents are application/problem+json"
        );
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.ends_with(code))
        );
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        &self.body
    }

    /// The fields named in `errors`, sorted.
    pub fn error_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        fields.sort();
        fields
    }
}

impl Api {
    /// The API of the server at `address`; a request that gets no answer within a minute fails.
    pub fn at(address: String) -> Api {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60));
        Api {
            address,
            client: client.build().unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn request(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(key)
    }

    pub async fn send(&self, request: RequestBuilder) -> Answer {
        Answer::read(request.send().await.expect("the request is sent")).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.send(self.request(Method::GET, path, key)).await
    }

    /// `GET path` as `key`, which must succeed.
    pub async fn read_ok(&self, path: &str, key: &str) -> Answer {
        let read = self.get(path, key).await;
        assert_eq!(read.status, 200, "GET {path}: {}", read.body);
        read
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Answer {
        self.send(self.request(Method::POST, path, key).json(body))
            .await
    }

    pub async fn patch(
        &self,
        path: &str,
        key: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> Answer {
        let mut request = self.request(Method::PATCH, path, key).json(body);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        self.send(request).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Answer {
        self.send(self.request(Method::DELETE, path, key)).await
    }

    /// `GET path` with no credentials.
    pub async fn get_anonymously(&self, path: &str) -> Answer {
        self.send(self.client.get(self.url(path))).await
    }
}

impl std::ops::Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestApp {
    /// Creates a partner (as admin) with a partner key of its own.
    pub async fn create_partner(&self, name: &str) -> TestPartner {
        let body = partner_body(name);
        let answer = self.created("/v1/partners", &self.admin_key, &body).await;
        let (id, tenant_id) = (answer.id(), uuid(&body["tenant_id"]));
        let key = issue_key(&self.db, Role::Partner, Some(id)).await;
        TestPartner { id, tenant_id, key }
    }

    pub async fn operator_key(&self) -> String {
        issue_key(&self.db, Role::Operator, None).await
    }

    /// Creates a valid customer for the partner; returns the answer.
    pub async fn create_customer(&self, partner: &TestPartner, company_name: &str) -> Answer {
        let body = customer_body(company_name);
        self.created("/v1/customers", &partner.key, &body).await
    }
}

/// A valid partner body with a fresh MPN id (7 to 10 digits) and tenant.
pub fn partner_body(name: &str) -> Value {
    let mpn_id = 1_000_000 + (Uuid::new_v4().as_u128() % 8_999_999_999) as u64;
    json!({"name": name, "mpn_id": mpn_id.to_string(), "tenant_id": Uuid::new_v4(), "country": "CN"})
}

/// A valid customer body with a fresh tenant.
pub fn customer_body(company_name: &str) -> Value {
    json!({
        "company_name": company_name,
        "domain": format!("c{}.partner.onmschina.cn", Uuid::new_v4().simple()),
        "tenant_id": Uuid::new_v4(),
        "country": "CN",
        "support_plan": "standard",
        "primary_contact": {"name": "王芳", "email": "wang.fang@example.cn", "phone": "+86 21 5555 0100"}
    })
}

impl Answer {
    /// The items of a 200 list answer (`{items, next_cursor}`), in order.
    #[track_caller]
    pub fn items(&self) -> &Vec<Value> {
        assert_eq!(self.status, 200, "{}", self.body);
        self.body["items"].as_array().expect("an items array")
    }

    /// The ids of a 200 list answer's items, in order.
    #[track_caller]
    pub fn item_ids(&self) -> Vec<Uuid> {
        self.items().iter().map(|item| uuid(&item["id"])).collect()
    }

    /// The target of `Link: <…>; rel="next"`, if the answer has one.
    pub fn next_link(&self) -> Option<String> {
        let link = self.header("link")?;
        let (target, params) = link.split_once(';')?;
        assert_eq!(params.trim(), "rel=\"next\"", "{link}");
        Some(
            target
                .trim()
                .strip_prefix('<')?
                .strip_suffix('>')?
                .to_owned(),
        )
    }
}

/// `/v1/customers/{customer_id}/subscriptions/{id}`.
pub fn subscription_path(customer_id: Uuid, id: Uuid) -> String {
    format!("/v1/customers/{customer_id}/subscriptions/{id}")
}

/// A valid subscription body for `service_key`, starting in `status` (`active` or `pending`).
pub fn subscription_body(service_key: &str, status: &str) -> Value {
    json!({
        "service_key": service_key,
        "offer_name": "Office 365 E3 (operated by 21Vianet)",
        "quantity": 250,
        "status": status
    })
}

/// `/v1/service-incidents/{id}`.
pub fn incident_path(id: Uuid) -> String {
    format!("/v1/service-incidents/{id}")
}

/// A valid incident body on `service_key`: a warning, status and start time left to defaults.
pub fn incident_body(service_key: &str) -> Value {
    json!({
        "service_key": service_key,
        "title": "Exchange Online 邮件投递延迟",
        "severity": "warning"
    })
}

impl TestApp {
    /// `GET path` with these query parameters (URL-encoded by the client).
    pub async fn get_query(&self, path: &str, key: &str, params: &[(&str, &str)]) -> Answer {
        self.send(self.request(Method::GET, path, key).query(params))
            .await
    }

    /// Adds a subscription to `service_key` for the partner's customer, starting in `status`
    /// (`active` or `pending`); asserts 201 and returns the answer.
    pub async fn create_subscription(
        &self,
        partner: &TestPartner,
        customer_id: Uuid,
        service_key: &str,
        status: &str,
    ) -> Answer {
        let path = format!("/v1/customers/{customer_id}/subscriptions");
        let body = subscription_body(service_key, status);
        self.created(&path, &partner.key, &body).await
    }

    /// Moves the subscription `current` (a 200 or 201 answer carrying it and its ETag) to
    /// `status` as its partner; asserts 200 and returns the answer.
    pub async fn move_subscription(
        &self,
        partner: &TestPartner,
        current: &Answer,
        status: &str,
    ) -> Answer {
        let customer_id = uuid(&current.body["customer_id"]);
        let answer = self
            .patch(
                &subscription_path(customer_id, current.id()),
                &partner.key,
                Some(&current.etag()),
                &json!({"status": status}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer
    }

    /// Opens an incident from `body` as `staff_key` (an operator or admin key); asserts 201 and
    /// returns the answer.
    pub async fn create_incident(&self, staff_key: &str, body: &Value) -> Answer {
        self.created("/v1/service-incidents", staff_key, body).await
    }

    /// Moves the incident `current` (an answer carrying it and its ETag) to `status` as
    /// `staff_key`; asserts 200 and returns the answer.
    pub async fn move_incident(&self, staff_key: &str, current: &Answer, status: &str) -> Answer {
        let answer = self
            .patch(
                &incident_path(current.id()),
                staff_key,
                Some(&current.etag()),
                &json!({"status": status}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer
    }
}

impl TestApp {
    /// Another instance over the same database with other secret keys and settings: a copy of
    /// the database in someone else's hands.
    pub fn spawn_stranger(&self, settings: ServeSettings, keys: KeyRing) -> TestApp {
        let mut settings = settings;
        settings.bind = "127.0.0.1:0".parse().unwrap();
        settings.workers = Some(2);
        start(
            settings,
            Arc::clone(&self.database),
            self.admin_key.clone(),
            keys,
        )
    }

    /// What `/metrics` shows.
    pub async fn metrics(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Where this server keeps attachments.
    pub fn attachment_store(&self) -> &escalade::storage::StoreLocation {
        self.settings
            .attachments
            .attachment_store
            .as_ref()
            .expect("every test server has an attachment store")
    }

    /// The database's URL, for the `escalade` binary.
    pub fn database_url(&self) -> String {
        self.database.url()
    }

    /// Every value of the first column `sql` selects, as text (`NULL` left out).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let backend = self.db.get_database_backend();
        self.db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .expect("the query runs")
            .iter()
            .filter_map(|row| row.try_get_by_index::<Option<String>>(0).expect("text"))
            .collect()
    }

    /// A second server over the same database (the same connection pool), with the same
    /// settings and admin key: two instances of the service behind one load balancer.
    pub fn spawn_sibling(&self) -> TestApp {
        start(
            self.settings.clone(),
            Arc::clone(&self.database),
            self.admin_key.clone(),
            self.keys.clone(),
        )
    }

    /// How the database runs `statement` whatever its parameters' values, one line per step:
    /// on PostgreSQL its generic plan, the one a prepared statement is run with once cached;
    /// on SQLite its plan with every parameter `NULL`.
    pub async fn generic_plan(&self, statement: &SelectStatement) -> Vec<String> {
        let backend = self.db.get_database_backend();
        let built = backend.build(statement);
        let parameters = built.values.as_ref().map_or(0, |values| values.0.len());
        let txn = self.db.begin().await.expect("a transaction");
        let postgres = backend == DatabaseBackend::Postgres;
        let (explain, column) = if postgres {
            for sql in [
                "SET LOCAL plan_cache_mode = force_generic_plan".to_owned(),
                format!("PREPARE planned AS {}", built.sql),
            ] {
                txn.execute_unprepared(&sql)
                    .await
                    .expect("the statement runs");
            }
            let nulls = vec!["NULL"; parameters].join(", ");
            let explain = format!("EXPLAIN EXECUTE planned({nulls})");
            (Statement::from_string(backend, explain), 0)
        } else {
            let explain = format!("EXPLAIN QUERY PLAN {}", built.sql);
            let nulls = vec![sea_orm::Value::String(None); parameters];
            (Statement::from_sql_and_values(backend, explain, nulls), 3)
        };
        let plan = txn
            .query_all_raw(explain)
            .await
            .expect("the plan")
            .iter()
            .map(|row| {
                row.try_get_by_index::<String>(column)
                    .expect("a line of the plan")
            })
            .collect();
        if postgres {
            // Prepared statements outlive transactions: the connection goes back to the pool.
            txn.execute_unprepared("DEALLOCATE planned")
                .await
                .expect("the statement is deallocated");
        }
        txn.rollback().await.expect("the rollback");
        plan
    }

    /// Runs one SQL statement straight on the database, to simulate time passing; returns the
    /// rows affected. Write placeholders as `$1`, `$2`, … in order, each once: on SQLite they
    /// become `?`. Bind chrono values, so each engine stores them in its own form.
    pub async fn execute_sql(&self, sql: &str, values: Vec<sea_orm::Value>) -> u64 {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => sql.to_owned(),
            _ => (1..=values.len())
                .rev()
                .fold(sql.to_owned(), |sql, n| sql.replace(&format!("${n}"), "?")),
        };
        self.db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .expect("the statement runs")
            .rows_affected()
    }
}

/// `POST path` with `body` as JSON and `Idempotency-Key: idempotency_key`, as `key`.
pub fn keyed(
    app: &TestApp,
    path: &str,
    key: &str,
    idempotency_key: &str,
    body: &Value,
) -> RequestBuilder {
    app.request(Method::POST, path, key)
        .header("Idempotency-Key", idempotency_key)
        .json(body)
}

/// Sends `keyed(...)` and reads the answer.
pub async fn post_keyed(
    app: &TestApp,
    path: &str,
    key: &str,
    idempotency_key: &str,
    body: &Value,
) -> Answer {
    app.send(keyed(app, path, key, idempotency_key, body)).await
}

/// Sends every request at once and reads every answer, in the order of `requests`.
pub async fn send_concurrently(requests: Vec<RequestBuilder>) -> Vec<Answer> {
    let handles: Vec<_> = requests
        .into_iter()
        .map(|request| {
            tokio::spawn(async move {
                Answer::read(request.send().await.expect("the request is sent")).await
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(handles.len());
    for handle in handles {
        answers.push(handle.await.expect("the request task finishes"));
    }
    answers
}

/// `/v1/escalations`.
pub const ESCALATIONS: &str = "/v1/escalations";

/// `/v1/escalations/{id}`.
pub fn escalation_path(id: Uuid) -> String {
    format!("{ESCALATIONS}/{id}")
}

/// `/v1/escalations/{id}/notes`.
pub fn notes_path(id: Uuid) -> String {
    format!("{}/notes", escalation_path(id))
}

/// A partner ready to escalate: one customer with an active Microsoft 365 subscription, and an
/// escalation body for it that meets every criterion.
pub struct EscalationFixture {
    pub partner: TestPartner,
    pub customer_id: Uuid,
    /// A moderate `service_unavailable` escalation about `microsoft-365`, from
    /// [`escalation_body`].
    pub body: Value,
}

/// An escalation body for `customer_id` that meets every criterion, given a customer with an
/// active Microsoft 365 subscription and no open incident on it: moderate,
/// `service_unavailable`, service health checked an hour ago, the admin center tried, one
/// troubleshooting step, one reason with a real justification, a complete contact reachable by
/// phone around the clock (so the same body is entitled to `critical` for a premium customer).
pub fn escalation_body(customer_id: Uuid) -> Value {
    let now = chrono::Utc::now();
    json!({
        "customer_id": customer_id,
        "service_key": "microsoft-365",
        "category": "service_unavailable",
        "severity": "moderate",
        "title": "Exchange Online 邮件无法投递到外部域",
        "description": "自 09:10 起，全部用户发往外部域的邮件停留在队列中，退信代码 4.4.7。",
        "business_impact": "300 名员工无法与客户和供应商通信，订单确认邮件全部延迟。",
        "problem_started_at": now - chrono::Duration::hours(3),
        "reasons": ["lacks_support_tools"],
        "justification": "需要 21Vianet 的传输日志才能确定邮件在服务端被阻塞的原因，合作伙伴无权访问这些日志。",
        "troubleshooting": {
            "service_health_checked_at": now - chrono::Duration::hours(1),
            "admin_center_attempted": true,
            "steps": ["在管理中心运行了邮件流诊断"]
        },
        "contact": {
            "first_name": "伟",
            "last_name": "张",
            "email": "zhang.wei@cloudbridge.cn",
            "phone": "+86 10 5555 0199",
            "preferred_contact_method": "phone",
            "preferred_language": "zh-Hans",
            "time_zone": "Asia/Shanghai",
            "available_24x7": true
        }
    })
}

impl TestApp {
    /// A customer of `partner` on support plan `plan` (`standard` or `premium`) with an active
    /// Microsoft 365 subscription; returns its id.
    pub async fn create_escalatable_customer(&self, partner: &TestPartner, plan: &str) -> Uuid {
        self.create_escalatable_customer_of(partner, plan, Uuid::new_v4())
            .await
    }

    /// As [`TestApp::create_escalatable_customer`], for the directory tenant `tenant_id`.
    pub async fn create_escalatable_customer_of(
        &self,
        partner: &TestPartner,
        plan: &str,
        tenant_id: Uuid,
    ) -> Uuid {
        let mut body = customer_body("上海云启科技有限公司");
        body["support_plan"] = json!(plan);
        body["tenant_id"] = json!(tenant_id);
        let customer_id = self
            .created("/v1/customers", &partner.key, &body)
            .await
            .id();
        self.create_subscription(partner, customer_id, "microsoft-365", "active")
            .await;
        customer_id
    }

    /// A new partner with one escalatable customer on `plan` and a valid escalation body for it.
    pub async fn escalation_fixture(&self, plan: &str) -> EscalationFixture {
        let partner = self.create_partner("云桥科技（合作伙伴）").await;
        let customer_id = self.create_escalatable_customer(&partner, plan).await;
        EscalationFixture {
            body: escalation_body(customer_id),
            partner,
            customer_id,
        }
    }

    /// Submits `body` as `partner_key`; asserts 201 and returns the answer.
    pub async fn submit_escalation(&self, partner_key: &str, body: &Value) -> Answer {
        self.created(ESCALATIONS, partner_key, body).await
    }

    /// Takes the escalation up as `operator` (from `submitted`, at version `etag`) with an
    /// engineer; asserts 200 and returns the answer.
    pub async fn start_work(&self, operator: &str, id: Uuid, etag: &str) -> Answer {
        let body = json!({"to": "in_progress", "engineer": engineer()});
        let started = self.transition(operator, id, etag, &body).await;
        assert_eq!(started.status, 200, "{}", started.body);
        started
    }

    /// Adds a note to the escalation as `key`; asserts 201 and returns the answer.
    pub async fn add_note(&self, key: &str, id: Uuid, text: &str) -> Answer {
        self.created(&notes_path(id), key, &json!({ "text": text }))
            .await
    }

    /// `POST /v1/escalations/{id}/transitions` with `If-Match: etag`, as `key`.
    pub async fn transition(&self, key: &str, id: Uuid, etag: &str, body: &Value) -> Answer {
        self.send(
            self.request(
                Method::POST,
                &format!("{}/transitions", escalation_path(id)),
                key,
            )
            .header("If-Match", etag)
            .json(body),
        )
        .await
    }
}

impl Answer {
    /// The criteria named in `violations`, in the order given.
    pub fn violations(&self) -> Vec<String> {
        self.body["violations"]
            .as_array()
            .map(|violations| {
                violations
                    .iter()
                    .filter_map(|v| v["criterion"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The 21Vianet engineer operators assign when they take an escalation up.
pub fn engineer() -> Value {
    json!({"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+86 10 5555 0123"})
}

/// A uuid held in a JSON value.
#[track_caller]
pub fn uuid(value: &Value) -> Uuid {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("a uuid, got {value}"))
}

/// An RFC 3339 timestamp of a JSON answer, as UTC.
#[track_caller]
pub fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value
        .as_str()
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(|time| time.to_utc())
        .unwrap_or_else(|| panic!("an RFC 3339 timestamp, got {value}"))
}

impl EscalationFixture {
    /// The fixture's body with `edit` applied.
    pub fn edited(&self, edit: impl FnOnce(&mut Value)) -> Value {
        let mut body = self.body.clone();
        edit(&mut body);
        body
    }
}

/// Submits the escalation `body` as `partner` and asserts 422 `criteria_not_met` naming exactly
/// `criteria`, in this order, each with a message, and that nothing was written. Returns the
/// answer.
pub async fn assert_refused(
    app: &TestApp,
    partner: &TestPartner,
    body: &Value,
    criteria: &[&str],
) -> Answer {
    let before = app.get(ESCALATIONS, &partner.key).await.item_ids();
    let answer = app.post(ESCALATIONS, &partner.key, body).await;
    answer.problem(422, "criteria_not_met");
    assert_eq!(answer.violations(), criteria, "{}", answer.body);
    for violation in answer.body["violations"].as_array().unwrap() {
        assert!(
            violation["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{violation}"
        );
    }
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
    let after = app.get(ESCALATIONS, &partner.key).await.item_ids();
    assert_eq!(after, before, "nothing was written");
    answer
}

/// The message a 422 `criteria_not_met` answer gives for `criterion`.
#[track_caller]
pub fn violation_message<'a>(answer: &'a Answer, criterion: &str) -> &'a str {
    answer.body["violations"]
        .as_array()
        .and_then(|violations| violations.iter().find(|v| v["criterion"] == criterion))
        .and_then(|v| v["message"].as_str())
        .unwrap_or_else(|| panic!("no violation of {criterion}: {}", answer.body))
}
