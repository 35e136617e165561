//! Builds the HTTP application from settings: middleware, routes, the OpenAPI document and
//! Swagger UI. Binding port 0 lets tests run many servers side by side.

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, Error, HttpServer, web};
use sea_orm::DatabaseConnection;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::config::ServeSettings;
use crate::http::extract::{self, BodyLimit};
use crate::http::metrics::{self, Metrics};
use crate::http::request_id::{self, RequestSpan};
use crate::http::routes::{self, RouteTable};
use crate::http::{self, AppState, auth, ops, problem};
use crate::openapi::ApiDoc;

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
    app.into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(ops::healthz)
        .service(ops::readyz)
        .service(metrics::metrics)
        .service(
            scope("/v1")
                .wrap(from_fn(auth::middleware))
                .configure(http::configure_v1),
        )
        .split_for_parts()
}

/// The OpenAPI document, as served at `/openapi.json` and checked in at `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    register(App::new()).1
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn build(settings: &ServeSettings, db: DatabaseConnection) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.bind)?;
        let port = listener.local_addr()?.port();
        let api = openapi();
        let table = web::Data::new(RouteTable::from_openapi(&api));
        let metrics = web::Data::new(Metrics::new());
        let state = web::Data::new(AppState {
            db,
            policy: settings.remediation_policy(),
        });
        let body_limit = settings.body_limit;
        let mut server = HttpServer::new(move || {
            let app = App::new()
                .wrap(from_fn(problem::middleware))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(from_fn(request_id::middleware))
                .app_data(state.clone())
                .app_data(table.clone())
                .app_data(metrics.clone())
                .app_data(BodyLimit(body_limit))
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(extract::path_config());
            let (app, _) = register(app);
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api.clone()))
                .service(web::redirect("/docs", "/docs/"))
                .default_service(web::to(routes::fallback))
        })
        .shutdown_timeout(30);
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
