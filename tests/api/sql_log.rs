//! Every SQL statement the server runs, by the request that ran it. With its `tracing-spans`
//! feature (enabled for tests only, as a dev-dependency), sea-orm opens a span for each statement
//! it sends, `BEGIN` and `COMMIT` included, inside the span of the request whose code awaited it;
//! the request's span carries its `request_id`. A test sends its own `X-Request-Id` and reads
//! back what ran for it: each statement's kind and operation, then its SQL text.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{LazyLock, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

static STATEMENTS: LazyLock<Mutex<HashMap<String, Vec<String>>>> = LazyLock::new(Default::default);

/// Installs the recorder (and, with `TEST_LOG` set, readable logs) for the whole test process.
pub fn install() {
    let recorder = Recorder.with_filter(
        Targets::new()
            .with_target("sea_orm", Level::INFO)
            .with_target("escalade", Level::INFO),
    );
    let logs = std::env::var("TEST_LOG").ok().map(|filter| {
        let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
        fmt::layer().with_test_writer().with_filter(filter)
    });
    let _ = tracing_subscriber::registry()
        .with(recorder)
        .with(logs)
        .try_init();
}

/// The statements run for the request with this `X-Request-Id`, in order.
pub fn statements_of(request_id: &str) -> Vec<String> {
    STATEMENTS
        .lock()
        .unwrap()
        .get(request_id)
        .cloned()
        .unwrap_or_default()
}

/// The request id of a request span, kept in the span's extensions.
#[derive(Clone)]
struct RequestId(String);

struct Recorder;

impl<S> Layer<S> for Recorder
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let name = attrs.metadata().name();
        if name.starts_with("sea_orm.") {
            let mut operation = FieldValue::named("db.operation");
            attrs.record(&mut operation);
            let statement = format!("{name} {}", operation.value.unwrap_or_default());
            for ancestor in span.scope().skip(1) {
                let Some(RequestId(request_id)) = ancestor.extensions().get::<RequestId>().cloned()
                else {
                    continue;
                };
                let mut statements = STATEMENTS.lock().unwrap();
                let of_request = statements.entry(request_id.clone()).or_default();
                of_request.push(statement);
                let index = of_request.len() - 1;
                span.extensions_mut().insert(Recorded { request_id, index });
                return;
            }
            return;
        }
        let mut request_id = FieldValue::named("request_id");
        attrs.record(&mut request_id);
        if let Some(value) = request_id.value {
            span.extensions_mut().insert(RequestId(value));
        }
    }

    fn on_record(&self, id: &Id, values: &tracing::span::Record<'_>, ctx: Context<'_, S>) {
        Self::add_text(id, values, &ctx);
    }
}

impl Recorder {
    /// The SQL text sea-orm records on a statement's span once it has it, added to the entry.
    fn add_text<S>(id: &Id, values: &tracing::span::Record<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let Some(Recorded { request_id, index }) = span.extensions().get::<Recorded>().cloned()
        else {
            return;
        };
        let mut text = FieldValue::named("db.statement");
        values.record(&mut text);
        if let (Some(text), Some(statement)) = (
            text.value,
            STATEMENTS
                .lock()
                .unwrap()
                .get_mut(&request_id)
                .and_then(|statements| statements.get_mut(index)),
        ) {
            statement.push_str(": ");
            statement.push_str(&text);
        }
    }
}

/// Where a statement's entry is, kept in its span's extensions.
#[derive(Clone)]
struct Recorded {
    request_id: String,
    index: usize,
}

/// The value of one named field, as text.
struct FieldValue {
    name: &'static str,
    value: Option<String>,
}

impl FieldValue {
    fn named(name: &'static str) -> Self {
        Self { name, value: None }
    }
}

impl Visit for FieldValue {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.name {
            self.value = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == self.name {
            self.value = Some(format!("{value:?}"));
        }
    }
}
