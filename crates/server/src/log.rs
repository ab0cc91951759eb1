//! A minimal line logger for `faceproof serve`: one line per event on stderr,
//! `time level target message key=value ...`, the time in ISO-8601 UTC with milliseconds
//! (`2026-12-06T09:41:07.123Z`). Spans are not tracked (the request id is a field of
//! each request's line). Kept by hand: a full subscriber stack is more than one service needs.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

struct LineLogger {
    max: Level,
}

impl Subscriber for LineLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let time = humantime::format_rfc3339_millis(SystemTime::now());
        let m = event.metadata();
        let mut line = Line(format!("{time} {} {}", m.level(), m.target()));
        event.record(&mut line);
        line.0.push('\n');
        let _ = std::io::stderr().lock().write_all(line.0.as_bytes());
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// Installs the logger for the process (a no-op if one is installed already). The level comes
/// from `FACEPROOF_LOG` (`error`, `warn`, `info`, `debug`, `trace`), default `info`.
pub fn init() {
    let max = match std::env::var("FACEPROOF_LOG").as_deref() {
        Ok("error") => Level::ERROR,
        Ok("warn") => Level::WARN,
        Ok("debug") => Level::DEBUG,
        Ok("trace") => Level::TRACE,
        _ => Level::INFO,
    };
    let _ = tracing::subscriber::set_global_default(LineLogger { max });
}
