//! What happens to requests no handler takes: 405 with `Allow` when the path exists under other
//! methods, 404 otherwise. The table of paths is read off the OpenAPI document, so it cannot
//! drift from the routes.

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::{OpenApi, PathItem, RefOr};

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

/// A documented path template, the methods it serves, and those of them that take a file's raw
/// bytes (`application/octet-stream`) rather than JSON.
#[derive(Debug)]
struct Route {
    pattern: Vec<Segment>,
    methods: Vec<&'static str>,
    uploads: Vec<&'static str>,
}

/// Every documented path template with the methods it serves.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
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

fn uploads(item: &PathItem) -> Vec<&'static str> {
    let takes_bytes = |operation: &Option<utoipa::openapi::path::Operation>| {
        operation
            .as_ref()
            .and_then(|operation| operation.request_body.as_ref())
            .is_some_and(|body| match body {
                RefOr::T(body) => body.content.contains_key("application/octet-stream"),
                RefOr::Ref(_) => false,
            })
    };
    [
        ("POST", takes_bytes(&item.post)),
        ("PUT", takes_bytes(&item.put)),
        ("PATCH", takes_bytes(&item.patch)),
    ]
    .into_iter()
    .filter_map(|(method, uploads)| uploads.then_some(method))
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
            .map(|(template, item)| Route {
                pattern: segments(template)
                    .map(|segment| {
                        if segment.starts_with('{') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(segment.to_owned())
                        }
                    })
                    .collect(),
                methods: methods(item),
                uploads: uploads(item),
            })
            .collect();
        Self { routes }
    }

    /// The templates `path` matches. When several do (`/v1/escalations/validate` and
    /// `/v1/escalations/{id}`), the most literal ones, as in routing.
    fn matching(&self, path: &str) -> Vec<&Route> {
        let actual: Vec<&str> = segments(path).collect();
        let parameters = |route: &Route| {
            route
                .pattern
                .iter()
                .filter(|s| **s == Segment::Parameter)
                .count()
        };
        let matching: Vec<&Route> = self
            .routes
            .iter()
            .filter(|route| {
                route.pattern.len() == actual.len()
                    && route
                        .pattern
                        .iter()
                        .zip(&actual)
                        .all(|(expected, segment)| match expected {
                            Segment::Parameter => true,
                            Segment::Literal(literal) => literal == segment,
                        })
            })
            .collect();
        let fewest = matching.iter().map(|route| parameters(route)).min();
        matching
            .into_iter()
            .filter(|route| Some(parameters(route)) == fewest)
            .collect()
    }

    /// The methods served at `path`, if any documented template matches it.
    pub fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let mut allowed: Vec<&'static str> = self
            .matching(path)
            .into_iter()
            .flat_map(|route| route.methods.iter().copied())
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }

    /// Whether `method` on `path` takes a file's bytes, which have a limit of their own.
    pub fn takes_upload(&self, method: &str, path: &str) -> bool {
        self.matching(path)
            .into_iter()
            .any(|route| route.uploads.contains(&method))
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
