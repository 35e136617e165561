//! The console as a browser loads it from `/console/`: the page and the files it names, cached as
//! their names allow, under a strict Content-Security-Policy, with deep links answered by the
//! page. The build's hashed file names are read from the page, never written here.

use regex::Regex;
use reqwest::Method;

use crate::helpers::{Answer, TestApp, spawn_app};

const INDEX: &str = "/console/";
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

impl TestApp {
    /// `method path` without a key, as a browser asks, with extra `headers`.
    async fn browse(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    async fn browse_get(&self, path: &str) -> Answer {
        self.browse(Method::GET, path, &[]).await
    }
}

impl Answer {
    /// The page's HTML.
    fn html(&self) -> &str {
        self.body.as_str().expect("an HTML body")
    }

    /// Asserts the headers every console answer carries.
    #[track_caller]
    fn assert_console_headers(&self) {
        assert_eq!(self.header("content-security-policy"), Some(POLICY));
        assert_eq!(self.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(self.header("referrer-policy"), Some("no-referrer"));
    }

    /// Asserts the console's page: 200, HTML, revalidated on every load.
    #[track_caller]
    fn assert_index(&self) {
        assert_eq!(self.status, 200);
        assert_eq!(
            self.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(self.header("cache-control"), Some("no-cache"));
        assert!(self.html().contains("<div id=\"app\">"), "{}", self.html());
        self.assert_console_headers();
    }
}

/// Every `src` and `href` value in `html`.
fn references(html: &str) -> Vec<String> {
    Regex::new(r#"\b(?:src|href)\s*=\s*["']([^"']*)["']"#)
        .unwrap()
        .captures_iter(html)
        .map(|reference| reference[1].to_owned())
        .collect()
}

/// The scripts and stylesheets the page loads.
fn scripts_and_stylesheets(html: &str) -> Vec<String> {
    references(html)
        .into_iter()
        .filter(|path| path.ends_with(".js") || path.ends_with(".css"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The page and its files
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_index_is_html_under_a_strict_policy_and_revalidated_on_every_load() {
    let app = spawn_app().await;

    let index = app.browse_get(INDEX).await;

    index.assert_index();
    assert!(index.header("etag").is_some());
}

#[tokio::test]
async fn every_script_and_stylesheet_of_the_index_is_served_and_cached_for_good() {
    let app = spawn_app().await;
    let index = app.browse_get(INDEX).await;
    let files = scripts_and_stylesheets(index.html());
    assert!(
        files.iter().any(|path| path.ends_with(".js")),
        "the page loads a script: {}",
        index.html()
    );

    for path in files {
        let file = app.browse_get(&path).await;

        assert_eq!(file.status, 200, "{path}");
        let expected = if path.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert_eq!(
            file.header("content-type")
                .and_then(|value| value.split(';').next()),
            Some(expected),
            "{path}"
        );
        assert!(path.starts_with("/console/assets/"), "{path}");
        assert_eq!(file.header("cache-control"), Some(IMMUTABLE), "{path}");
        assert!(file.header("etag").is_some(), "{path}");
        file.assert_console_headers();
    }
}

#[tokio::test]
async fn the_index_references_nothing_off_origin() {
    let app = spawn_app().await;

    let index = app.browse_get(INDEX).await;

    let attribute_values = Regex::new(r#"=\s*["']([^"']*)["']"#).unwrap();
    let off_origin: Vec<&str> = attribute_values
        .captures_iter(index.html())
        .map(|value| value.get(1).unwrap().as_str().trim())
        .filter(|value| {
            let lower = value.to_ascii_lowercase();
            ["http:", "https:", "//"]
                .iter()
                .any(|start| lower.starts_with(start))
        })
        .collect();
    assert!(off_origin.is_empty(), "{off_origin:?}");
    assert!(!references(index.html()).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Conditional requests and HEAD
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_known_etag_is_answered_304_without_a_body() {
    let app = spawn_app().await;
    let index = app.browse_get(INDEX).await;
    let script = scripts_and_stylesheets(index.html())
        .into_iter()
        .find(|path| path.ends_with(".js"))
        .expect("a script");
    let file = app.browse_get(&script).await;

    for (path, first) in [(INDEX, &index), (script.as_str(), &file)] {
        let again = app
            .browse(Method::GET, path, &[("If-None-Match", &first.etag())])
            .await;

        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_null(), "{path}: {:?}", again.body);
        assert_eq!(again.etag(), first.etag(), "{path}");
        assert_eq!(again.header("cache-control"), first.header("cache-control"));
        again.assert_console_headers();
    }
}

#[tokio::test]
async fn head_gives_the_headers_without_a_body() {
    let app = spawn_app().await;
    let get = app.browse_get(INDEX).await;

    let head = app.browse(Method::HEAD, INDEX, &[]).await;

    assert_eq!(head.status, 200);
    assert!(head.body.is_null(), "{:?}", head.body);
    assert_eq!(head.header("content-type"), get.header("content-type"));
    assert_eq!(
        head.header("content-length"),
        Some(get.html().len().to_string().as_str())
    );
    assert_eq!(head.etag(), get.etag());
    assert_eq!(head.header("cache-control"), Some("no-cache"));
    head.assert_console_headers();
}

// ---------------------------------------------------------------------------------------------
// Routes, missing files and redirects
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_deep_link_or_a_reload_gets_the_index() {
    let app = spawn_app().await;
    let index = app.browse_get(INDEX).await;

    for path in [
        "/console/escalations/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
        "/console/escalations",
        "/console/customers/",
    ] {
        let page = app.browse_get(path).await;

        page.assert_index();
        assert_eq!(page.html(), index.html(), "{path}");
    }
}

#[tokio::test]
async fn a_missing_file_is_a_404_problem() {
    let app = spawn_app().await;

    for path in ["/console/assets/missing.js", "/console/missing.png"] {
        let missing = app.browse_get(path).await;

        missing.problem(404, "not_found");
        assert_eq!(missing.body["instance"], path);
        missing.assert_console_headers();
    }
}

#[tokio::test]
async fn console_without_a_slash_redirects_permanently() {
    let app = spawn_app().await;

    for method in [Method::GET, Method::HEAD] {
        let redirect = app.browse(method.clone(), "/console", &[]).await;

        assert_eq!(redirect.status, 308, "{method}");
        assert_eq!(redirect.header("location"), Some(INDEX), "{method}");
        redirect.assert_console_headers();
    }
}

#[tokio::test]
async fn other_methods_are_refused_with_405() {
    let app = spawn_app().await;

    let refused = app.browse(Method::POST, "/console/escalations", &[]).await;

    refused.problem(405, "method_not_allowed");
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
    refused.assert_console_headers();
}
