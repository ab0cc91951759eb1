//! `[server.console]`: the operator console's settings.

use std::path::PathBuf;

use faceproof_store::LoginPolicy;
use serde::Deserialize;

/// Where the console's files are and how its logins behave.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Serve the console at `/console/` (its JSON API under `/console/api/`).
    pub enabled: bool,
    /// The console's folder: `/console/` serves `<dir>/dist/`. Relative to the working directory.
    pub dir: PathBuf,
    /// Mark the session cookie `Secure` (set it when clients reach faceproof over HTTPS, e.g.
    /// behind a TLS-terminating proxy; browsers then never send the cookie over plain HTTP).
    pub secure_cookie: bool,
    /// Lifetime of a login, seconds.
    pub session_ttl_secs: u64,
    /// Consecutive failed logins that lock an account.
    pub max_failed_logins: u32,
    /// How long a locked account stays locked, seconds.
    pub lockout_secs: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            enabled: true,
            dir: PathBuf::from("console"),
            secure_cookie: false,
            session_ttl_secs: 8 * 3600,
            max_failed_logins: 5,
            lockout_secs: 15 * 60,
        }
    }
}

impl ConsoleConfig {
    pub fn login_policy(&self) -> LoginPolicy {
        LoginPolicy {
            max_failures: self.max_failed_logins.max(1),
            lockout_secs: self.lockout_secs,
            session_ttl_secs: self.session_ttl_secs.max(60),
        }
    }
}
