//! The cast of most scenarios in one call, and the steps and readings every module shares, so a
//! test reads as its scenario: arrange with a `World`, act with one request, assert on the
//! answer. Cases that differ only in data are rows of a table inside one test (one server for
//! all of them), each row's label in its assertion messages.
//!
//! ```ignore
//! let world = World::new().await;                     // a partner ready to escalate, an operator
//! let escalation = world.submit().await;              // its escalation, submitted
//! let stranger = world.app.create_partner("…").await; // another partner, for 404s
//! ```

use escalade::config::ServeSettings;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, TestApp, TestPartner, escalation_path, spawn_app, spawn_app_with,
};

/// A server with a partner ready to escalate (one customer on the standard plan with an active
/// Microsoft 365 subscription, and an escalation body for it that meets every criterion) and an
/// operator's key.
pub struct World {
    pub app: TestApp,
    pub partner: TestPartner,
    pub customer_id: Uuid,
    /// A moderate `service_unavailable` escalation about `microsoft-365` (see
    /// `helpers::escalation_body`).
    pub body: Value,
    pub operator: String,
}

impl World {
    pub async fn new() -> Self {
        Self::over(spawn_app().await).await
    }

    /// The same cast on a server started with `settings`.
    pub async fn with(settings: ServeSettings) -> Self {
        Self::over(spawn_app_with(settings).await).await
    }

    /// The same cast on `app`.
    pub async fn over(app: TestApp) -> Self {
        let fixture = app.escalation_fixture("standard").await;
        let operator = app.operator_key().await;
        Self {
            partner: fixture.partner,
            customer_id: fixture.customer_id,
            body: fixture.body,
            operator,
            app,
        }
    }

    /// The partner's key.
    pub fn key(&self) -> &str {
        &self.partner.key
    }

    /// Submits the world's escalation body; asserts 201.
    pub async fn submit(&self) -> Answer {
        self.app
            .submit_escalation(&self.partner.key, &self.body)
            .await
    }

    /// Submits the body with `edit` applied; asserts 201.
    pub async fn submit_edited(&self, edit: impl FnOnce(&mut Value)) -> Answer {
        let mut body = self.body.clone();
        edit(&mut body);
        self.app.submit_escalation(&self.partner.key, &body).await
    }

    /// Submits the escalation and has the operator start work on it (an engineer assigned);
    /// the answer of the move.
    pub async fn in_progress(&self) -> Answer {
        let submitted = self.submit().await;
        self.app
            .start_work(&self.operator, submitted.id(), &submitted.etag())
            .await
    }

    /// `GET /v1/escalations/{id}` as `key`.
    pub async fn escalation(&self, key: &str, id: Uuid) -> Answer {
        self.app.get(&escalation_path(id), key).await
    }

    /// The partner's escalations, as it lists them.
    pub async fn escalations(&self) -> Answer {
        self.app.get(ESCALATIONS, &self.partner.key).await
    }
}

impl TestApp {
    /// `POST path` as `key` with `body`; asserts 201 and returns the answer.
    pub async fn created(&self, path: &str, key: &str, body: &Value) -> Answer {
        let answer = self.post(path, key, body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer
    }

    /// `method path` as `key` with `If-Match: tag`, and `body` as JSON when given.
    pub async fn with_if_match(
        &self,
        method: Method,
        path: &str,
        key: &str,
        tag: &str,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.request(method, path, key).header("If-Match", tag);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    /// `POST path` as `key` with raw bytes and the given `Content-Type` (none when `None`).
    pub async fn post_raw(
        &self,
        path: &str,
        key: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let mut request = self.request(Method::POST, path, key).body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        self.send(request).await
    }

    /// `GET path` as `key` in `language` (an `Accept-Language` value).
    pub async fn get_in(&self, path: &str, key: &str, language: &str) -> Answer {
        let request = self.request(Method::GET, path, key);
        self.send(request.header("Accept-Language", language)).await
    }
}

impl Answer {
    /// The field errors as (field, code) pairs, sorted.
    pub fn field_codes(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let text = |name: &str| e[name].as_str().unwrap_or_default().to_owned();
                        (text("field"), text("code"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        pairs.sort();
        pairs
    }

    /// Asserts a problem with this status and code naming exactly these (field, code) pairs,
    /// each with a message; returns the problem.
    #[track_caller]
    pub fn fields_refused(&self, status: u16, code: &str, expected: &[(&str, &str)]) -> &Value {
        let problem = self.problem(status, code);
        let mut expected: Vec<(String, String)> = expected
            .iter()
            .map(|(field, code)| (field.to_string(), code.to_string()))
            .collect();
        expected.sort();
        assert_eq!(self.field_codes(), expected, "{}", self.body);
        for error in self.body["errors"].as_array().into_iter().flatten() {
            assert!(
                error["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{error}"
            );
        }
        problem
    }

    /// [`Answer::fields_refused`] for one row of a table: a problem with this status and code
    /// naming exactly these (field, code) pairs, with the row's `label` in the messages.
    #[track_caller]
    pub fn case_refused(
        &self,
        label: &str,
        status: u16,
        code: &str,
        fields: &[(&str, &str)],
    ) -> &Value {
        let answered = (self.status, self.body["code"].as_str().unwrap_or_default());
        assert_eq!(answered, (status, code), "{label}: {}", self.body);
        let (answered, mut expected) = (self.field_codes(), fields.to_vec());
        expected.sort();
        let answered: Vec<(&str, &str)> = answered.iter().map(|(f, c)| (&f[..], &c[..])).collect();
        assert_eq!(answered, expected, "{label}: {}", self.body);
        self.fields_refused(status, code, fields)
    }

    /// `field` of each item of a 200 list answer, as text, in order.
    #[track_caller]
    pub fn strings(&self, field: &str) -> Vec<String> {
        self.items()
            .iter()
            .map(|item| match &item[field] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}
