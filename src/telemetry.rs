//! Logging: JSON lines for collectors or a pretty format for terminals, always on standard error
//! so that commands like `api-key create` keep standard output for their answer.

use std::fmt::Write as _;
use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. Safe to call more than once (later calls do nothing), which
/// tests rely on.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = match settings.log_format {
        LogFormat::Pretty => true,
        LogFormat::Json => false,
        LogFormat::Auto => std::io::stderr().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if pretty {
        let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        let format = ClientMistakesAsWarnings(tracing_subscriber::fmt::format());
        registry.with(layer.event_format(format)).try_init()
    } else {
        // The span list carries the root span's `request_id` into every line of a request.
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(std::io::stderr);
        let format = ClientMistakesAsWarnings(
            tracing_subscriber::fmt::format()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(true),
        );
        registry.with(layer.event_format(format)).try_init()
    };
}

/// actix-http logs a request it cannot read (malformed or oversized headers, a body cut off) as
/// an error, `stream error: …`, after answering it 4xx. That is the client's mistake, not the
/// service's: such a line goes out as a warning, so that errors in the log stay the service's
/// own. (A layer cannot change an event's level, and one emitted from inside the subscriber is
/// dropped, so the line is reworded as it is written.)
struct ClientMistakesAsWarnings<F>(F);

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

fn is_client_mistake(event: &Event<'_>) -> bool {
    let metadata = event.metadata();
    if metadata.target() != "actix_http::h1::dispatcher" || *metadata.level() != Level::ERROR {
        return false;
    }
    let mut message = Message::default();
    event.record(&mut message);
    message.0.starts_with("stream error:")
}

impl<S, N, F> FormatEvent<S, N> for ClientMistakesAsWarnings<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        if !is_client_mistake(event) {
            return self.0.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        // The level comes before the message in both formats.
        writer.write_str(&line.replacen("ERROR", "WARN", 1))
    }
}
