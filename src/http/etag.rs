//! Optimistic concurrency: a strong `ETag` per representation (the row's version) and
//! `If-Match` on updates.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, ETAG, EntityTag, Header};
use actix_web::{FromRequest, HttpRequest, HttpResponseBuilder};

use crate::error::ApiError;
use crate::store::VersionCheck;

/// The entity tag of version `version`: `"7"`.
pub fn etag(version: i32) -> String {
    EntityTag::new_strong(version.to_string()).to_string()
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
    /// Refuses with 412 when the current version is not admitted. Otherwise answers the guard
    /// for the write: exactly the version the request was judged against, even for `*`, so a
    /// change made in between (which could make the request wrong) turns it into a 412.
    pub fn check(&self, current: i32) -> Result<VersionCheck, ApiError> {
        guard(&self.0, current)
    }
}

fn guard(admitted: &VersionCheck, current: i32) -> Result<VersionCheck, ApiError> {
    if admitted.admits(current) {
        Ok(VersionCheck::OneOf(vec![current]))
    } else {
        Err(ApiError::PreconditionFailed)
    }
}

/// The versions a request's `If-Match` admits, as actix-web's typed header reads it; `None`
/// without one. Only strong tags of this API's form (a version of 1–9 digits) name a version: a
/// weak tag, or anything malformed, matches no representation, so the precondition is false
/// (412), exactly as for a stale tag (RFC 9110, section 13.1.1).
fn header_value(req: &HttpRequest) -> Option<VersionCheck> {
    req.headers().get(header::IF_MATCH)?;
    let version = |tag: &EntityTag| {
        let digits = tag.tag();
        let ours = !tag.weak
            && (1..=9).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit());
        digits.parse().ok().filter(|_| ours)
    };
    Some(match header::IfMatch::parse(req) {
        Ok(header::IfMatch::Any) => VersionCheck::Any,
        Ok(header::IfMatch::Items(tags)) => {
            VersionCheck::OneOf(tags.iter().filter_map(version).collect())
        }
        Err(_) => VersionCheck::OneOf(Vec::new()),
    })
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            header_value(req)
                .map(IfMatch)
                .ok_or(ApiError::PreconditionRequired),
        )
    }
}

/// `If-Match` where it is optional (deletes, actions): absent means any version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalIfMatch(pub VersionCheck);

impl OptionalIfMatch {
    /// As [`IfMatch::check`].
    pub fn check(&self, current: i32) -> Result<VersionCheck, ApiError> {
        guard(&self.0, current)
    }
}

impl FromRequest for OptionalIfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(OptionalIfMatch(
            header_value(req).unwrap_or(VersionCheck::Any),
        )))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn parse(if_match: &str) -> VersionCheck {
        let req = TestRequest::default()
            .insert_header((header::IF_MATCH, if_match))
            .to_http_request();
        header_value(&req).unwrap()
    }

    #[test]
    fn parses_strong_tags_lists_and_star() {
        assert_eq!(parse("\"3\""), VersionCheck::OneOf(vec![3]));
        assert_eq!(parse("\"3\", \"4\""), VersionCheck::OneOf(vec![3, 4]));
        assert_eq!(parse("\"3\",\"4\""), VersionCheck::OneOf(vec![3, 4]));
        assert_eq!(parse("*"), VersionCheck::Any);
        assert_eq!(etag(7), "\"7\"");
    }

    #[test]
    fn weak_or_malformed_tags_match_nothing() {
        assert_eq!(parse("W/\"3\", \"4\""), VersionCheck::OneOf(vec![4]));
        for header in ["W/\"3\"", "3", "\"three\"", "", "\"1234567890\"", "0"] {
            assert!(!parse(header).admits(3), "{header}");
            assert_ne!(parse(header), VersionCheck::Any, "{header}");
        }
        assert_eq!(
            header_value(&TestRequest::default().to_http_request()),
            None
        );
    }
}
