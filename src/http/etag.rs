//! Optimistic concurrency: a strong `ETag` per representation (the row's version) and
//! `If-Match` on updates.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{ETAG, IF_MATCH};
use actix_web::{FromRequest, HttpRequest, HttpResponseBuilder};

use crate::error::ApiError;
use crate::store::VersionCheck;

/// The entity tag of version `version`: `"7"`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

pub fn with_etag(mut response: HttpResponseBuilder, version: i32) -> HttpResponseBuilder {
    response.insert_header((ETAG, etag(version)));
    response
}

/// `If-Match`, required: 428 without it. A list of tags admits any of them and `*` admits any
/// version; weak or malformed tags never match (RFC 9110 compares strongly), which is 412.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(pub VersionCheck);

impl IfMatch {
    /// Refuses with 412 when the current version is not admitted.
    pub fn check(&self, current: i32) -> Result<(), ApiError> {
        if self.0.admits(current) {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed)
        }
    }
}

fn parse(header: &str) -> VersionCheck {
    if header.trim() == "*" {
        return VersionCheck::Any;
    }
    let versions = header
        .split(',')
        .filter_map(|tag| tag.trim().strip_prefix('"')?.strip_suffix('"')?.parse().ok())
        .collect();
    VersionCheck::OneOf(versions)
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.headers().get(IF_MATCH) {
            None => Err(ApiError::PreconditionRequired),
            Some(value) => Ok(IfMatch(parse(value.to_str().unwrap_or_default()))),
        })
    }
}

/// `If-Match` where it is optional (deletes): absent means unconditional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalIfMatch(pub VersionCheck);

impl FromRequest for OptionalIfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let check = req
            .headers()
            .get(IF_MATCH)
            .map_or(VersionCheck::Any, |value| parse(value.to_str().unwrap_or_default()));
        ready(Ok(OptionalIfMatch(check)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strong_tags_lists_and_star() {
        assert_eq!(parse("\"3\""), VersionCheck::OneOf(vec![3]));
        assert_eq!(parse("\"3\", \"4\""), VersionCheck::OneOf(vec![3, 4]));
        assert_eq!(parse(" * "), VersionCheck::Any);
    }

    #[test]
    fn weak_or_malformed_tags_match_nothing() {
        for header in ["W/\"3\"", "3", "\"three\"", ""] {
            assert!(!parse(header).admits(3), "{header}");
        }
    }
}
