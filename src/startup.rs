//! Builds the HTTP application from settings: middleware, routes, the OpenAPI document, Swagger UI
//! and the console. Binding port 0 lets tests run many servers side by side.

use std::net::TcpListener;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_http::HttpService;
use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::body::MessageBody;
use actix_web::dev::AppConfig;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, Error, web};
use chrono::Utc;
use sea_orm::{DatabaseConnection, DbBackend};
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::config::{ServeSettings, SlaSettings};
use crate::delivery::{Housekeeping, Worker};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::escalation::policy::SlaPolicy;
use crate::domain::escalation::sla::SlaClock;
use crate::domain::sealing::KeyRing;
use crate::http::auth::FailedAuthentications;
use crate::http::body::{self, BodyTimeout};
use crate::http::event_stream::{FeedWatch, Streaming};
use crate::http::expect::EarlyChecks;
use crate::http::extract::{self, BodyLimit};
use crate::http::language::{self, DefaultLanguage};
use crate::http::metrics::{self, Metrics};
use crate::http::rate_limit::{self, RateLimiter};
use crate::http::request_id::{self, RequestSpan};
use crate::http::routes::{self, RouteTable};
use crate::http::verified_keys::VerifiedCallers;
use crate::http::webhooks::EndpointPolicy;
use crate::http::{
    self, AppState, auth, conditional, console, cors, head, idempotency, ops, problem,
};
use crate::identity::IdentityProvider;
use crate::limits::SharedStore;
use crate::openapi::{ApiDoc, v30};
use crate::sla_watch::SlaWatch;
use crate::storage::AttachmentStore;
use crate::store::WriteGate;

/// Registers every documented operation on `app` and returns the OpenAPI document they make.
fn register<T, B>(app: App<T>) -> (App<T>, utoipa::openapi::OpenApi)
where
    B: MessageBody,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = Error,
            InitError = (),
        >,
{
    let (app, api) = app
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(ops::healthz)
        .service(ops::readyz)
        .service(metrics::metrics)
        // Before anyone signs in: no key, so no authentication and no key's rate limit.
        .service(scope("/v1/auth").configure(http::people::configure_public))
        .service(
            // The last wrap runs first: authenticate, count against the key's rate limit, then
            // answer repeated idempotency keys.
            scope("/v1")
                .wrap(from_fn(idempotency::middleware))
                .wrap(from_fn(rate_limit::middleware))
                .wrap(from_fn(auth::middleware))
                .configure(http::configure_v1),
        )
        .split_for_parts();
    let (app, mut api) = (app, api);
    crate::openapi::conventions::apply(&mut api);
    (app, api)
}

/// The OpenAPI document, as served at `/openapi.json` and checked in at `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    register(App::new()).1
}

/// The document as served, serialised once for every worker: `/openapi.json` and its 3.0
/// rendition at `/openapi-3.0.json`.
struct Specs {
    v31: web::Bytes,
    v30: web::Bytes,
}

fn spec_response(json: &web::Bytes) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(json.clone())
}

async fn serve_openapi(specs: web::Data<Specs>) -> actix_web::HttpResponse {
    spec_response(&specs.v31)
}

async fn serve_openapi_30(specs: web::Data<Specs>) -> actix_web::HttpResponse {
    spec_response(&specs.v30)
}

/// A bound, not yet running server and its background tasks.
pub struct Application {
    port: u16,
    server: Server,
    worker: Worker,
    sla_watch: SlaWatch,
    verified: Arc<VerifiedCallers>,
    identity: Option<Arc<IdentityProvider>>,
    upkeep: Upkeep,
    feed_watch: FeedWatch,
    db: DatabaseConnection,
}

/// The rate limiters' memory, kept from growing with keys seen once.
struct Upkeep {
    limiter: Option<web::Data<RateLimiter>>,
    failures: Option<web::Data<FailedAuthentications>>,
}

impl Upkeep {
    /// How often buckets that are full again are forgotten.
    const INTERVAL: Duration = Duration::from_secs(60);

    async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(Self::INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    if let Some(limiter) = &self.limiter {
                        limiter.forget_idle();
                    }
                    if let Some(failures) = &self.failures {
                        failures.forget_idle();
                    }
                }
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }
}

/// The SLA clock `settings` make: the policy and the business calendar, shipped or from the
/// deployment's files; why not when a file cannot be used.
pub fn sla_clock(settings: &SlaSettings) -> Result<SlaClock, String> {
    let calendar =
        BusinessCalendar::load(settings.calendar_dir.as_deref()).map_err(|err| err.to_string())?;
    let policy =
        SlaPolicy::load(settings.sla_policy_file.as_deref()).map_err(|err| err.to_string())?;
    Ok(SlaClock::new(
        Arc::new(policy),
        Arc::new(calendar),
        settings.sla_warning_share,
    ))
}

/// Where every instance counts rate limits together: the Redis a deployment names, else its
/// PostgreSQL database; `None` on SQLite, where one instance counts alone.
fn shared_limit_store(
    settings: &ServeSettings,
    db: &DatabaseConnection,
) -> std::io::Result<Option<Arc<SharedStore>>> {
    let invalid = |err| std::io::Error::new(std::io::ErrorKind::InvalidInput, err);
    Ok(match (&settings.redis_url, db.get_database_backend()) {
        (Some(url), _) => Some(Arc::new(
            SharedStore::redis(url, &settings.redis_key_prefix).map_err(invalid)?,
        )),
        (None, DbBackend::Postgres) => Some(Arc::new(SharedStore::postgres(db.clone()))),
        (None, _) => None,
    })
}

impl Application {
    pub fn build(
        settings: &ServeSettings,
        db: DatabaseConnection,
        keys: KeyRing,
    ) -> std::io::Result<Self> {
        let sla = sla_clock(&settings.sla)
            .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidInput, err))?;
        for warning in ops::calendar_warnings(sla.calendar(), Utc::now()) {
            tracing::warn!("{warning}");
        }
        let store = settings
            .attachments
            .attachment_store
            .as_ref()
            .ok_or("no attachment store is configured".to_owned())
            .and_then(AttachmentStore::open)
            .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidInput, err))?;
        tracing::info!(store = %store.location(), "attachment store opened");
        let limit_store = shared_limit_store(settings, &db)?;
        let listener = TcpListener::bind(settings.bind)?;
        let local_address = listener.local_addr()?;
        let port = local_address.port();
        let api = openapi();
        let table = web::Data::new(RouteTable::from_openapi(&api));
        let metrics = Metrics::new();
        let writes = Arc::new(WriteGate::for_database(&db));
        let worker = Worker::new(
            db.clone(),
            Arc::clone(&writes),
            keys.clone(),
            settings.webhooks.clone(),
            Housekeeping {
                interval: Duration::from_secs(settings.housekeeping_interval_secs),
                event_retention: settings.sla.event_retention(),
                attachments: store.clone(),
                orphan_grace: settings.attachments.orphan_grace(),
                rate_limits: limit_store.clone(),
            },
            metrics.clone(),
        );
        let sla_watch = SlaWatch {
            db: db.clone(),
            writes: Arc::clone(&writes),
            clock: sla.clone(),
            metrics: metrics.clone(),
            interval: Duration::from_secs(settings.sla.sla_check_interval_secs),
        };
        let metrics = web::Data::new(metrics);
        let limiter = rate_limit::per_key(settings.rate_limit_per_minute, limit_store.clone())
            .map(web::Data::new);
        let failures = FailedAuthentications::new(
            settings.auth_failures_per_minute,
            settings.trusted_proxies.clone(),
            limit_store.clone(),
        )
        .map(web::Data::new);
        let endpoint_policy = web::Data::new(EndpointPolicy {
            allow_private_networks: settings.webhooks.allow_private_networks,
            secret_grace: settings.webhooks.secret_grace(),
        });
        let mut builder =
            actix_server::Server::build().shutdown_timeout(settings.shutdown_timeout_secs);
        if let Some(workers) = settings.workers {
            builder = builder.workers(workers);
        }
        let shutdown = builder.graceful_shutdown_signal();
        let feed_watch = FeedWatch::default();
        let verified = Arc::new(VerifiedCallers::default());
        let identity = settings
            .identity
            .provider()
            .and_then(|provider| provider.map(IdentityProvider::new).transpose())
            .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidInput, err))?
            .map(Arc::new);
        let state = web::Data::new(AppState {
            db: db.clone(),
            policy: settings.remediation_policy(),
            keys,
            verified: Arc::clone(&verified),
            identity: identity.clone(),
            writes: Arc::clone(&writes),
            sla,
            event_retention: settings.sla.event_retention(),
            attachments: store,
            attachment_max_bytes: settings.attachments.attachment_max_bytes,
            attachment_quota: settings.attachments.quota(),
            rate_limit_store: limit_store,
            streaming: Streaming {
                watch: feed_watch.clone(),
                slots: Arc::default(),
                keepalive: Duration::from_secs(settings.stream_keepalive_secs),
                shutdown: shutdown.clone(),
            },
        });
        let body_limit = settings.body_limit;
        let body_timeout = Duration::from_secs(settings.body_timeout_secs);
        let default_language = settings.default_language;
        let origins = settings.cors_allowed_origins.0.clone();
        let document = serde_json::to_value(&api).expect("the OpenAPI document serialises");
        let specs = web::Data::new(Specs {
            v31: serde_json::to_vec(&document)
                .expect("JSON serialises")
                .into(),
            v30: serde_json::to_vec(&v30::render(&document))
                .expect("JSON serialises")
                .into(),
        });
        let checks = EarlyChecks {
            state: state.clone(),
            failures: failures.clone(),
            routes: table.clone(),
            body_limit,
            default_language: DefaultLanguage(default_language),
        };
        let upkeep = Upkeep {
            limiter: limiter.clone(),
            failures: failures.clone(),
        };
        let app = move || {
            // The last wrap runs first: the request id, the request's span, the answer's
            // language, problem documents, CORS (preflights before authentication), HEAD served
            // as GET, 304s, and the deadline of the body.
            let mut app = App::new()
                .wrap(from_fn(body::middleware))
                .wrap(from_fn(conditional::middleware))
                .wrap(from_fn(head::middleware))
                .wrap(cors::middleware(&origins))
                .wrap(from_fn(cors::expose))
                .wrap(from_fn(problem::middleware))
                .wrap(from_fn(language::middleware))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(from_fn(request_id::middleware))
                .app_data(state.clone())
                .app_data(table.clone())
                .app_data(metrics.clone())
                .app_data(BodyLimit(body_limit))
                .app_data(BodyTimeout(body_timeout))
                .app_data(DefaultLanguage(default_language))
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(extract::path_config())
                .app_data(endpoint_policy.clone());
            if let Some(limiter) = &limiter {
                app = app.app_data(limiter.clone());
            }
            if let Some(failures) = &failures {
                app = app.app_data(failures.clone());
            }
            let (app, _) = register(app);
            app.service(
                // Under a Content-Security-Policy like the console's: Swagger UI's page loads
                // its scripts and styles from files and the document from this server.
                web::scope("/docs")
                    .wrap(from_fn(console::docs_security_headers))
                    .service(web::redirect("", "/docs/"))
                    .service(
                        // The UI reads the document the route below serves, once for all
                        // workers.
                        SwaggerUi::new("/{_:.*}").config(
                            SwaggerConfig::new(["/openapi.json"])
                                // The default asks validator.swagger.io for a badge with the
                                // spec's URL: a request outside China from every deployment.
                                .validator_url("none"),
                        ),
                    ),
            )
            .app_data(specs.clone())
            .route("/openapi.json", web::get().to(serve_openapi))
            .route("/openapi-3.0.json", web::get().to(serve_openapi_30))
            // The console, like the docs, is outside the OpenAPI document and needs no key.
            .configure(console::configure)
            .default_service(web::to(routes::fallback))
        };
        // actix-web's `HttpServer`, assembled by hand for the one setting it does not offer: the
        // service that decides on `Expect: 100-continue` (see `http::expect`). The rest is as
        // `HttpServer` sets it up.
        let server = builder
            .listen("escalade", listener, move || {
                let checks = Rc::new(checks.clone());
                let shutdown = shutdown.clone();
                HttpService::build()
                    .client_request_timeout(Duration::from_secs(5))
                    .client_disconnect_timeout(Duration::from_secs(1))
                    // A client that closes its side is gone: an event stream it held ends (and
                    // frees its place) at once rather than at its next write. HTTP clients do not
                    // half-close a connection while they wait for an answer.
                    .h1_allow_half_closed(false)
                    .local_addr(local_address)
                    .graceful_shutdown_signal(move || {
                        let shutdown = shutdown.clone();
                        async move { shutdown.notified().await }
                    })
                    .expect(fn_service(move |req| Rc::clone(&checks).check(req)))
                    .finish(map_config(
                        app()
                            .into_factory()
                            .map_err(|err: Error| err.error_response()),
                        // Host and address come from each request; nothing reads these.
                        |_| AppConfig::default(),
                    ))
                    .tcp()
            })?
            .run();
        Ok(Self {
            port,
            server,
            worker,
            sla_watch,
            verified,
            identity,
            upkeep,
            feed_watch,
            db,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (gracefully with `stop(true)`), as SIGTERM does.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM (or `handle().stop`), then lets in-flight requests finish
    /// and the worker complete the attempts it has started before returning.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let verified = self.verified;
        let revalidation = tokio::spawn({
            let stopped = stopped.clone();
            let db = self.db.clone();
            async move { verified.maintain(db, stopped).await }
        });
        let identity = tokio::spawn({
            let stopped = stopped.clone();
            let provider = self.identity;
            async move {
                if let Some(provider) = provider {
                    provider.maintain(stopped).await;
                }
            }
        });
        let worker = tokio::spawn(self.worker.run(stopped.clone()));
        let sla_watch = tokio::spawn(self.sla_watch.run(stopped.clone()));
        let upkeep = tokio::spawn(self.upkeep.run(stopped.clone()));
        let feed_watch = tokio::spawn(self.feed_watch.maintain(self.db, stopped));
        let served = self.server.await;
        stop.send_replace(true);
        for (task, result) in [
            ("worker", worker.await),
            ("SLA watch", sla_watch.await),
            ("key revalidation", revalidation.await),
            ("rate limit upkeep", upkeep.await),
            ("identity provider's keys", identity.await),
            ("feed watch", feed_watch.await),
        ] {
            if let Err(err) = result {
                tracing::error!(error = %err, task, "a background task failed");
            }
        }
        tracing::info!("escalade stopped");
        served
    }
}
