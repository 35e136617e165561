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

/// The `If-Match` values this API understands: `*`, or a list of entity tags. Tags compare
/// strongly (RFC 9110), so a weak one (`W/"3"`) is well-formed but never matches.
pub struct EntityTags;

impl EntityTags {
    pub const PATTERN: &str = r#"^(\*|(W/)?"[0-9]{1,9}"( *, *(W/)?"[0-9]{1,9}")*)$"#;
}

impl utoipa::PartialSchema for EntityTags {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "`*`, or one or more entity tags from this API's `ETag` headers; weak tags never match.",
            ))
            .pattern(Some(Self::PATTERN))
            .examples([serde_json::json!("\"3\"")])
            .into()
    }
}

impl utoipa::ToSchema for EntityTags {}

/// `If-Match`, required: 428 without it, 400 when it is not `*` or a list of our tags. A list
/// admits any of its versions; `*` admits whatever version is current.
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

/// Parses exactly what [`EntityTags::PATTERN`] admits.
fn parse(header: &str) -> Result<VersionCheck, ApiError> {
    if header == "*" {
        return Ok(VersionCheck::Any);
    }
    // Some(Some(v)) for a strong tag, Some(None) for a weak one, None when malformed.
    let version = |tag: &str| {
        let tag = tag.trim_matches(' ');
        let (weak, quoted) = match tag.strip_prefix("W/") {
            Some(quoted) => (true, quoted),
            None => (false, tag),
        };
        let digits = quoted.strip_prefix('"')?.strip_suffix('"')?;
        let well_formed =
            (1..=9).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        let version: i32 = digits.parse().ok().filter(|_| well_formed)?;
        Some((!weak).then_some(version))
    };
    let versions: Option<Vec<i32>> = header
        .split(',')
        .map(version)
        .collect::<Option<Vec<Option<i32>>>>()
        .map(|tags| tags.into_iter().flatten().collect());
    let malformed = || {
        ApiError::bad_request(
            "invalid_if_match",
            "If-Match must be * or one or more ETags from this API, such as \"3\"",
        )
    };
    let versions = versions.ok_or_else(malformed)?;
    if header.starts_with(' ') || header.ends_with(' ') {
        return Err(malformed());
    }
    Ok(VersionCheck::OneOf(versions))
}

fn header_value(req: &HttpRequest) -> Option<Result<VersionCheck, ApiError>> {
    let value = req.headers().get(IF_MATCH)?;
    Some(
        value
            .to_str()
            .map_err(|_| ApiError::bad_request("invalid_if_match", "If-Match is not text"))
            .and_then(parse),
    )
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match header_value(req) {
            None => Err(ApiError::PreconditionRequired),
            Some(check) => check.map(IfMatch),
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
        ready(
            header_value(req)
                .unwrap_or(Ok(VersionCheck::Any))
                .map(OptionalIfMatch),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strong_tags_lists_and_star() {
        assert_eq!(parse("\"3\"").unwrap(), VersionCheck::OneOf(vec![3]));
        assert_eq!(
            parse("\"3\", \"4\"").unwrap(),
            VersionCheck::OneOf(vec![3, 4])
        );
        assert_eq!(
            parse("\"3\",\"4\"").unwrap(),
            VersionCheck::OneOf(vec![3, 4])
        );
        assert_eq!(parse("*").unwrap(), VersionCheck::Any);
    }

    #[test]
    fn weak_tags_are_well_formed_but_never_match() {
        assert_eq!(parse("W/\"3\"").unwrap(), VersionCheck::OneOf(vec![]));
        assert_eq!(
            parse("W/\"3\", \"4\"").unwrap(),
            VersionCheck::OneOf(vec![4])
        );
    }

    #[test]
    fn anything_else_is_malformed() {
        for header in [
            "w/\"3\"",
            "3",
            "\"three\"",
            "",
            " *",
            "\"3\",",
            "\"1234567890\"",
            " \"3\"",
        ] {
            assert!(parse(header).is_err(), "{header}");
        }
    }
}
