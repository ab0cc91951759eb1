//! JSON on stdout for every subcommand, and one error shape: `{"error": {"code", "message"}}`.

use serde::Serialize;
use std::process::ExitCode;

pub struct Output {
    pub pretty: bool,
}

impl Output {
    /// Prints a value as JSON and returns success.
    pub fn json<T: Serialize>(&self, value: &T) -> ExitCode {
        let text = if self.pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        match text {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => self.error("internal", &format!("cannot serialise the result: {e}")),
        }
    }

    /// Prints `{"error": {"code", "message"}}` on stdout and returns a failure exit code.
    /// `code` is a stable snake_case identifier that scripts can match on.
    pub fn error(&self, code: &str, message: &str) -> ExitCode {
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        let text = if self.pretty {
            serde_json::to_string_pretty(&body)
        } else {
            serde_json::to_string(&body)
        };
        println!("{}", text.unwrap_or_default());
        ExitCode::FAILURE
    }
}
