//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), as text lines or JSON
//! objects (`log.format`), optionally with a line per closed span and its timings
//! (`log.span_timings`). Repository and storage calls open `debug` spans, jobs and webhook
//! deliveries `info` ones, each with the ids it works on.

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber once; later calls are no-ops.
pub fn init(settings: &LogSettings) {
    install(settings, std::io::stderr);
}

/// For tests: silent unless `TEST_LOG` is set (then as [`init`], to stderr). The events are
/// still formatted, into a sink, so logging code runs in every test.
pub fn init_for_tests() {
    let settings = LogSettings::default();
    if std::env::var_os("TEST_LOG").is_some() {
        install(&settings, std::io::stderr);
    } else {
        install(&settings, std::io::sink);
    }
}

fn install<W>(settings: &LogSettings, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let spans = if settings.span_timings { FmtSpan::CLOSE } else { FmtSpan::NONE };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_span_events(spans).with_writer(writer);
    let _ = match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}
