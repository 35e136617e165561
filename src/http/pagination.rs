//! Keyset pagination on the wire: `limit` (1–100, default 25), an opaque `cursor`, answers of
//! `{items, next_cursor}` and a `Link: <…>; rel="next"` header.

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{ApiError, FieldError};
use crate::i18n::Text;
use crate::store::{Page, PageRequest};

pub const DEFAULT_LIMIT: u64 = 25;
pub const MAX_LIMIT: u64 = 100;

/// Declares a list answer `{items, next_cursor}` for one item type. A type per resource keeps
/// the names in the OpenAPI document plain (`CustomerList`).
macro_rules! list_type {
    ($(#[$doc:meta])* $list:ident of $item:ty, example = $example:path) => {
        $(#[$doc])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[schema(example = $list::example)]
        pub struct $list {
            /// This page's items.
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }

        impl $list {
            /// The list's example: one item and a cursor to the next page.
            fn example() -> serde_json::Value {
                serde_json::json!({"items": [$example()], "next_cursor": "AZOh8nxOfSqbHi88TV5vcA"})
            }
        }

        impl $crate::http::pagination::List for $list {
            type Item = $item;

            fn new(items: Vec<$item>, next_cursor: Option<String>) -> Self {
                Self { items, next_cursor }
            }
        }
    };
}
pub(crate) use list_type;

/// What `list_type!` declares, so `respond` can build any of them.
pub trait List: Serialize {
    type Item;
    fn new(items: Vec<Self::Item>, next_cursor: Option<String>) -> Self;
}

/// An opaque page position: 22 URL-safe Base64 characters (a `next_cursor`).
pub struct Cursor;

impl Cursor {
    /// Exactly the strings that decode to a position: 16 bytes leave the last character's low
    /// bits zero, hence its four possible values.
    pub const PATTERN: &str = "^[A-Za-z0-9_-]{21}[AQgw]$";
}

impl utoipa::PartialSchema for Cursor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("The `next_cursor` of the previous page."))
            .pattern(Some(Self::PATTERN))
            .examples([serde_json::json!("AZOh8nxOfSqbHi88TV5vcA")])
            .into()
    }
}

impl utoipa::ToSchema for Cursor {}

fn encode(after: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(after.as_bytes())
}

fn decode(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// The page a request asks for; limits are checked by the query's `Validate` derive.
pub fn page_request(limit: Option<u64>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    let after = match cursor {
        None => None,
        Some(cursor) => Some(decode(cursor).ok_or_else(|| {
            ApiError::invalid_query(vec![FieldError::new(
                "cursor",
                "invalid_cursor",
                Text::new("field-invalid-cursor"),
            )])
        })?),
    };
    Ok(PageRequest {
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        after,
    })
}

/// 200 with the page as `{items, next_cursor}` and, when more follow, a `Link` to them that keeps
/// the request's other parameters.
pub fn respond<L: List, R>(
    req: &HttpRequest,
    page: Page<R>,
    map: impl Fn(R) -> Result<L::Item, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let next_cursor = page.next_after.map(encode);
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
            if key != "cursor" {
                query.append_pair(&key, &value);
            }
        }
        query.append_pair("cursor", cursor);
        response.insert_header((
            LINK,
            format!("<{}?{}>; rel=\"next\"", req.path(), query.finish()),
        ));
    }
    let items = page.items.into_iter().map(map).collect::<Result<_, _>>()?;
    Ok(response.json(L::new(items, next_cursor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode(id)), Some(id));
        for bad in ["", "not a cursor", "AAAA", "!!!!"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn page_request_defaults_and_rejects_bad_cursors() {
        assert_eq!(
            page_request(None, None).unwrap(),
            PageRequest {
                limit: DEFAULT_LIMIT,
                after: None
            }
        );
        assert!(page_request(Some(5), Some("nope")).is_err());
    }
}
