//! The console: the browser front end built from `console/` into `console/dist`, served from the
//! binary at `/console/` so a deployment is still one file. Debug builds read the folder from
//! disk (a rebuilt front end shows on reload); release builds embed it.
//!
//! The build writes hashed file names under `assets/`, so those are cached for good, while
//! `index.html`, which names them, is revalidated on every load through its `ETag`. A path that
//! names no file and looks like no file is one of the console's own routes (a deep link, a
//! reload), so it gets `index.html` and the console's router takes it from there.
//!
//! Every answer carries a strict Content-Security-Policy because the build allows it: it puts
//! nothing inline (no inline script or style, no module-preload polyfill) and loads nothing from
//! another origin, so `'self'` is all the page needs and a script injected into it would not run.
//! Images may also be `data:` or `blob:` URLs, which the page makes itself (its favicon is
//! `data:,`); no other site may frame it. Where people sign in with their organisation, the page
//! also talks to the identity provider's token endpoint, so that one origin joins `connect-src`.
//! Like `/docs`, these files need no key and count against
//! no key's rate limit: only `/v1` is behind authentication.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpRequest, HttpResponse, web};
use rust_embed::{EmbeddedFile, RustEmbed};

use super::AppState;
use crate::error::ApiError;

/// `console/dist`, the output of the console's build.
#[derive(RustEmbed)]
#[folder = "console/dist"]
struct Build;

const INDEX: &str = "index.html";

/// The console's policy; `{connect}` is where it may send requests besides its own origin.
fn content_security_policy(connect: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         connect-src 'self'{connect}; font-src 'self'; manifest-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Files whose names carry a hash of their content: a new build gives them new names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `/console` (redirected to `/console/`) and everything under it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(from_fn(security_headers))
            .service(web::redirect("", "/console/").permanent())
            .service(
                web::resource("/{tail:.*}")
                    .route(web::get().to(serve))
                    .default_service(web::to(method_not_allowed)),
            ),
    );
}

async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.match_info().query("tail");
    if let Some(file) = Build::get(path) {
        return Ok(file_response(path, file));
    }
    if names_a_file(path) {
        return Err(ApiError::not_found("file"));
    }
    // Without a build there is no console to route to.
    let index = Build::get(INDEX).ok_or(ApiError::not_found("file"))?;
    Ok(file_response(INDEX, index))
}

/// Whether `path` can only be a file of the build, never one of the console's routes: anything
/// under `assets/`, or a last segment with an extension (`favicon.ico`, `app.js.map`).
fn names_a_file(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    path.starts_with("assets/")
        || last
            .rsplit_once('.')
            .is_some_and(|(_, ext)| !ext.is_empty())
}

fn file_response(path: &str, file: EmbeddedFile) -> HttpResponse {
    let cache_control = if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        "no-cache"
    };
    HttpResponse::Ok()
        .content_type(content_type(file.metadata.mimetype()))
        .insert_header((header::ETAG, etag(&file.metadata.sha256_hash())))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .body(file.data.into_owned())
}

/// The guessed type, saying UTF-8 for text (the build writes UTF-8, and a stylesheet would
/// otherwise be read in whatever encoding its page has).
fn content_type(mime: &str) -> String {
    if mime.starts_with("text/") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    }
}

/// A strong tag from the file's SHA-256, so it changes exactly when the bytes do. The
/// conditional-request middleware answers a matching `If-None-Match` with 304.
fn etag(sha256: &[u8; 32]) -> String {
    format!("\"{}\"", hex::encode(sha256))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        allow: vec!["GET", "HEAD"],
    })
}

/// On every answer under `/console`, 304s and problem documents included.
async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let provider = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.identity.as_ref()?.endpoints()?.token_endpoint)
        .and_then(|endpoint| {
            Some(
                url::Url::parse(&endpoint)
                    .ok()?
                    .origin()
                    .ascii_serialization(),
            )
        });
    let connect = provider
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    // An origin is ASCII, so the policy is a valid header; were it not, nothing would load.
    let policy = HeaderValue::from_str(&content_security_policy(&connect))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    let mut res = next.call(req).await?;
    secure(&mut res, policy);
    Ok(res)
}

/// `/docs` (Swagger UI) under the console's policy but for one thing: the one inline style
/// Swagger UI's bundle applies, admitted by its hash, so no other inline style would apply. A new
/// Swagger UI with another inline style shows as a violation in the browser suite.
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// On every answer under `/docs`.
pub async fn docs_security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    secure(
        &mut res,
        HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
    );
    Ok(res)
}

fn secure<B>(res: &mut ServiceResponse<B>, policy: HeaderValue) {
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_look_like_files_are_not_routes() {
        for path in [
            "assets/missing.js",
            "assets/x",
            "favicon.ico",
            "a/b/app.js.map",
        ] {
            assert!(names_a_file(path), "{path}");
        }
        for path in [
            "",
            "escalations",
            "escalations/0193a1f2-7c4e",
            "partners/",
            "a.",
        ] {
            assert!(!names_a_file(path), "{path}");
        }
    }

    #[test]
    fn text_is_said_to_be_utf8() {
        assert_eq!(content_type("text/html"), "text/html; charset=utf-8");
        assert_eq!(content_type("image/png"), "image/png");
    }
}
