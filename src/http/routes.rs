//! What happens to requests no handler takes: 405 with `Allow` when the path exists under other
//! methods, 404 otherwise. The table of paths is read off the OpenAPI document, so it cannot
//! drift from the routes.

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::{OpenApi, PathItem};

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

/// Every documented path template with the methods it serves.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<&'static str>)>,
}

fn methods(item: &PathItem) -> Vec<&'static str> {
    [
        ("GET", item.get.is_some()),
        // Every GET answers HEAD too (see `head`).
        ("HEAD", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("PATCH", item.patch.is_some()),
        ("DELETE", item.delete.is_some()),
    ]
    .into_iter()
    .filter_map(|(method, present)| present.then_some(method))
    .collect()
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

impl RouteTable {
    pub fn from_openapi(api: &OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let pattern = segments(template)
                    .map(|segment| {
                        if segment.starts_with('{') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(segment.to_owned())
                        }
                    })
                    .collect();
                (pattern, methods(item))
            })
            .collect();
        Self { routes }
    }

    /// The methods served at `path`, if any documented template matches it. When several do
    /// (`/v1/escalations/validate` and `/v1/escalations/{id}`), the most literal ones win, as in
    /// routing.
    pub fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let actual: Vec<&str> = segments(path).collect();
        let parameters =
            |pattern: &[Segment]| pattern.iter().filter(|s| **s == Segment::Parameter).count();
        let matching: Vec<&(Vec<Segment>, Vec<&'static str>)> = self
            .routes
            .iter()
            .filter(|(pattern, _)| {
                pattern.len() == actual.len()
                    && pattern
                        .iter()
                        .zip(&actual)
                        .all(|(expected, segment)| match expected {
                            Segment::Parameter => true,
                            Segment::Literal(literal) => literal == segment,
                        })
            })
            .collect();
        let fewest = matching
            .iter()
            .map(|(pattern, _)| parameters(pattern))
            .min()?;
        let mut allowed: Vec<&'static str> = matching
            .iter()
            .filter(|(pattern, _)| parameters(pattern) == fewest)
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// The default service.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    Err(match table.allowed(req.path()) {
        Some(allow) => ApiError::MethodNotAllowed { allow },
        None => ApiError::not_found("route"),
    })
}
