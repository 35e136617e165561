//! Conditional reads: a `GET` whose `If-None-Match` names the answer's current `ETag` gets
//! 304 Not Modified, without a body (RFC 9110, 13.1.2). Works for every answer that carries an
//! `ETag`, so each single-resource read has it without repeating it in its handler.

use std::str::FromStr;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, EntityTag, Header, HeaderValue, IfNoneMatch};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let if_none_match = (req.method() == Method::GET)
        .then(|| IfNoneMatch::parse(&req).ok())
        .flatten()
        .filter(|_| req.headers().contains_key(header::IF_NONE_MATCH));
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(if_none_match) = if_none_match else {
        return Ok(res);
    };
    let current = res.headers().get(header::ETAG);
    if res.status() != StatusCode::OK || !current.is_some_and(|tag| matches(&if_none_match, tag)) {
        return Ok(res);
    }
    let (req, original) = res.into_parts();
    let mut not_modified = HttpResponse::NotModified().finish();
    for (name, value) in original.headers() {
        // A 304 carries the headers a 200 would, except those describing the absent body.
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            not_modified
                .headers_mut()
                .append(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, not_modified))
}

/// Whether `If-None-Match` names `current`: `*`, or one of its entity tags by weak comparison
/// (the opaque tags are equal, whether or not either is weak). Anything malformed names nothing.
fn matches(if_none_match: &IfNoneMatch, current: &HeaderValue) -> bool {
    let current = current.to_str().ok().map(EntityTag::from_str);
    match (if_none_match, current) {
        (IfNoneMatch::Any, _) => true,
        (IfNoneMatch::Items(tags), Some(Ok(current))) => {
            tags.iter().any(|tag| tag.weak_eq(&current))
        }
        (IfNoneMatch::Items(_), _) => false,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn check(if_none_match: &str, current: &str) -> bool {
        let req = TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, if_none_match))
            .to_http_request();
        IfNoneMatch::parse(&req)
            .is_ok_and(|listed| matches(&listed, &HeaderValue::from_str(current).unwrap()))
    }

    #[test]
    fn names_the_current_tag_by_weak_comparison() {
        assert!(check("\"3\"", "\"3\""));
        assert!(check("W/\"3\"", "\"3\""));
        assert!(check("\"2\", \"3\"", "\"3\""));
        assert!(check("\"2\",W/\"3\"", "\"3\""));
        assert!(check("*", "\"3\""));
    }

    #[test]
    fn other_or_malformed_tags_name_nothing() {
        for listed in ["\"2\"", "3", "\"3", "", "W/", "\"33\""] {
            assert!(!check(listed, "\"3\""), "{listed}");
        }
    }
}
