//! A client for escalade's API, generated at build time by
//! [progenitor](https://github.com/oxidecomputer/progenitor) from `openapi/openapi-3.0.json`.
//!
//! ```no_run
//! # async fn example() -> Result<(), escalade_client::Error<escalade_client::types::Problem>> {
//! use escalade_client::{Client, bearer};
//!
//! let client = Client::new_with_client("https://escalade.partner.cn", bearer("esc_…"));
//! let customers = client.list_customers().q("上海").send().await?;
//! for customer in &customers.items {
//!     println!("{} {}", customer.company_name, customer.domain);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Every operation is a builder named after its `operationId` (`transition_escalation()`,
//! `.id(…)`, `.if_match(…)`, `.body(…)`, `.send()`). Answers are `ResponseValue`s: the typed body,
//! plus `status()` and `headers()` (read `ETag` there for the next `If-Match`). Documented errors
//! arrive as `Error::ErrorResponse` holding the problem document (`types::Problem`, with its
//! `code`, `errors` and `violations`).

#![allow(clippy::all, clippy::pedantic, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/escalade.rs"));

/// An HTTP client that sends `Authorization: Bearer <key>` on every request, for
/// `Client::new_with_client`.
pub fn bearer(api_key: &str) -> reqwest::Client {
    with_headers(api_key, &[])
}

/// As [`bearer`], with more headers on every request, such as `Accept-Language`.
pub fn with_headers(api_key: &str, extra: &[(&'static str, &str)]) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut authorization = reqwest::header::HeaderValue::try_from(format!("Bearer {api_key}"))
        .expect("an API key is a valid header value");
    authorization.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, authorization);
    for (name, value) in extra {
        headers.insert(
            *name,
            reqwest::header::HeaderValue::try_from(*value).expect("a valid header value"),
        );
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a reqwest client builds")
}
