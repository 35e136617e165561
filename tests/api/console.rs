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

impl TestApp {
    /// `method path` without a key, as a browser asks, with `If-None-Match: tag` when given.
    async fn browse(&self, method: Method, path: &str, if_none_match: Option<&str>) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(tag) = if_none_match {
            request = request.header("If-None-Match", tag);
        }
        self.send(request).await
    }
}

impl Answer {
    /// The page's HTML.
    fn html(&self) -> &str {
        self.body.as_str().expect("an HTML body")
    }

    /// Asserts the headers every console answer carries.
    #[track_caller]
    fn assert_console_headers(&self, label: &str) {
        let policy = self.header("content-security-policy");
        assert_eq!(policy, Some(POLICY), "{label}");
        let sniffing = self.header("x-content-type-options");
        assert_eq!(sniffing, Some("nosniff"), "{label}");
        let referrer = self.header("referrer-policy");
        assert_eq!(referrer, Some("no-referrer"), "{label}");
    }

    /// Asserts the console's page: 200, HTML, revalidated on every load.
    #[track_caller]
    fn assert_index(&self, label: &str) {
        assert_eq!(self.status, 200, "{label}");
        let content_type = self.header("content-type");
        assert_eq!(content_type, Some("text/html; charset=utf-8"), "{label}");
        assert_eq!(self.header("cache-control"), Some("no-cache"), "{label}");
        let html = self.html();
        assert!(html.contains("<div id=\"app\">"), "{label}: {html}");
        self.assert_console_headers(label);
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

#[tokio::test]
async fn the_index_and_every_file_it_loads_are_served_under_a_strict_policy_from_this_origin() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let index = app.browse(Method::GET, INDEX, None).await;

    // Assert: the page is revalidated on every load, its scripts and stylesheets kept for good.
    index.assert_index(INDEX);
    assert!(index.header("etag").is_some());
    let files: Vec<String> = (references(index.html()).into_iter())
        .filter(|path| path.ends_with(".js") || path.ends_with(".css"))
        .collect();
    let script = files.iter().find(|path| path.ends_with(".js"));
    let script = script.unwrap_or_else(|| panic!("the page loads a script: {}", index.html()));
    for path in &files {
        let file = app.browse(Method::GET, path, None).await;
        assert_eq!(file.status, 200, "{path}");
        let expected = if path.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        let media_type = file
            .header("content-type")
            .and_then(|value| value.split(';').next());
        assert_eq!(media_type, Some(expected), "{path}");
        assert!(path.starts_with("/console/assets/"), "{path}");
        assert_eq!(file.header("cache-control"), Some(IMMUTABLE), "{path}");
        assert!(file.header("etag").is_some(), "{path}");
        file.assert_console_headers(path);
    }
    // Nothing it names is off origin.
    let attribute_values = Regex::new(r#"=\s*["']([^"']*)["']"#).unwrap();
    let off_origin: Vec<&str> = (attribute_values.captures_iter(index.html()))
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

    // A known ETag is answered 304 without a body, and HEAD gives the headers alone.
    let file = app.browse(Method::GET, script, None).await;
    for (path, first) in [(INDEX, &index), (script.as_str(), &file)] {
        let again = app.browse(Method::GET, path, Some(&first.etag())).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_null(), "{path}: {:?}", again.body);
        assert_eq!(again.etag(), first.etag(), "{path}");
        let cache_control = again.header("cache-control");
        assert_eq!(cache_control, first.header("cache-control"), "{path}");
        again.assert_console_headers(path);
    }
    let head = app.browse(Method::HEAD, INDEX, None).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_null(), "{:?}", head.body);
    assert_eq!(head.header("content-type"), index.header("content-type"));
    let length = index.html().len().to_string();
    assert_eq!(head.header("content-length"), Some(length.as_str()));
    assert_eq!(head.etag(), index.etag());
    assert_eq!(head.header("cache-control"), Some("no-cache"));
    head.assert_console_headers("HEAD");
}

#[tokio::test]
async fn deep_links_get_the_index_missing_files_404_and_the_bare_path_redirects() {
    // Arrange
    let app = spawn_app().await;
    let index = app.browse(Method::GET, INDEX, None).await;

    // A deep link or a reload gets the page.
    for path in [
        "/console/escalations/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
        "/console/escalations",
        "/console/customers/",
    ] {
        // Act
        let page = app.browse(Method::GET, path, None).await;

        // Assert
        page.assert_index(path);
        assert_eq!(page.html(), index.html(), "{path}");
    }
    for path in ["/console/assets/missing.js", "/console/missing.png"] {
        let missing = app.browse(Method::GET, path, None).await;

        missing.problem(404, "not_found");
        assert_eq!(missing.body["instance"], path);
        missing.assert_console_headers(path);
    }
    // `/console` without a slash redirects permanently.
    for method in [Method::GET, Method::HEAD] {
        let redirect = app.browse(method.clone(), "/console", None).await;

        assert_eq!(redirect.status, 308, "{method}");
        assert_eq!(redirect.header("location"), Some(INDEX), "{method}");
        redirect.assert_console_headers(method.as_str());
    }
    let refused = app.browse(Method::POST, "/console/escalations", None).await;
    refused.problem(405, "method_not_allowed");
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
    refused.assert_console_headers("POST");
}
