//! Operator accounts of the console and their login sessions.
//!
//! - Accounts belong to one tenant (`(tenant, email)` is unique) and have a [`Role`]. `add`
//!   prints a one-time password that must be replaced at the first login ([`Operator::must_change`]).
//! - Passwords are Argon2id PHC strings (19 MiB, 2 passes: the crate's defaults, OWASP's minimum),
//!   hashed off the async runtime. An unknown email costs one verification too, so timing does not
//!   tell which emails exist.
//! - Optional TOTP (RFC 6238, `totp.rs`): the key is sealed at rest; each code is accepted once.
//! - Lockout: `max_failures` consecutive failures lock the account for `lockout_secs`; while
//!   locked even the right password is refused.
//! - A login session is a random cookie value of which only the SHA-256 is stored, plus a CSRF
//!   synchronizer token; resolving it yields a [`TenantStore`] for the operator's tenant only.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use crate::crypto::{hex, new_id, new_token, random, sha256_hex};
use crate::error::{BackendOp, Result, StoreError};
use crate::tenants::TenantStore;
use crate::totp;
use crate::{Store, StoreConfig};

/// Prefix of a console session cookie value.
pub const CONSOLE_TOKEN_PREFIX: &str = "fpc_";
/// Shortest password an operator may choose.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (Argon2 takes any length; this bounds the work per request).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What an operator may do. Reviewers read and decide; admins also read the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Reviewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "reviewer" => Ok(Role::Reviewer),
            "admin" => Ok(Role::Admin),
            other => Err(StoreError::invalid(
                "role",
                format!("{other:?}: reviewer or admin"),
            )),
        }
    }
}

/// An operator account (never its password hash or TOTP key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub role: Role,
    /// The one-time password is still in use: only a password change is allowed.
    pub must_change: bool,
    pub totp_enabled: bool,
    pub created_at_ms: i64,
    pub locked_until_ms: Option<i64>,
}

/// A new account and its one-time password (shown once).
#[derive(Debug)]
pub struct IssuedOperator {
    pub operator: Operator,
    pub one_time_password: Zeroizing<String>,
}

/// A TOTP key just set for an operator (shown once).
#[derive(Debug)]
pub struct IssuedTotp {
    /// RFC 4648 base32 key.
    pub secret: Zeroizing<String>,
    /// `otpauth://totp/...` for authenticator apps.
    pub uri: Zeroizing<String>,
}

/// How logins are judged (the `[server.console]` settings).
#[derive(Clone, Copy, Debug)]
pub struct LoginPolicy {
    /// Consecutive failures that lock an account.
    pub max_failures: u32,
    /// How long a lock lasts, seconds.
    pub lockout_secs: u64,
    /// Lifetime of a login session, seconds.
    pub session_ttl_secs: u64,
}

/// The answer to a login attempt. `Refused` never says which part was wrong.
#[derive(Debug)]
pub enum LoginOutcome {
    Granted(ConsoleLogin),
    Refused,
    Locked { until_ms: i64 },
}

/// A granted login: the cookie value (shown once) and its CSRF token.
#[derive(Debug)]
pub struct ConsoleLogin {
    pub token: Zeroizing<String>,
    pub csrf: String,
    pub operator: Operator,
    pub expires_at_ms: i64,
}

/// A resolved login session: who, for which tenant, and the CSRF token to compare.
#[derive(Clone, Debug)]
pub struct ConsoleSession {
    pub operator: Operator,
    pub tenant: TenantStore,
    pub csrf: String,
    pub expires_at_ms: i64,
}

/// `SELECT <every operator column> FROM operators <filter>` as one literal.
macro_rules! select_operator {
    ($filter:literal) => {
        concat!(
            "SELECT id, tenant_id, email, role, must_change, totp_secret, totp_last_step, \
             failed_logins, locked_until, created_at, password_hash FROM operators ",
            $filter
        )
    };
}

struct OperatorRow {
    op: Operator,
    password_hash: String,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
}

fn operator_from_row(row: &AnyRow) -> Result<OperatorRow> {
    let d = "decode operator";
    let totp_secret: Option<String> = row.try_get("totp_secret").op(d)?;
    Ok(OperatorRow {
        op: Operator {
            id: row.try_get("id").op(d)?,
            tenant_id: row.try_get("tenant_id").op(d)?,
            email: row.try_get("email").op(d)?,
            role: Role::parse(&row.try_get::<String, _>("role").op(d)?)
                .map_err(|_| StoreError::corrupt("operator role"))?,
            must_change: row.try_get::<i64, _>("must_change").op(d)? != 0,
            totp_enabled: totp_secret.is_some(),
            created_at_ms: row.try_get("created_at").op(d)?,
            locked_until_ms: row.try_get("locked_until").op(d)?,
        },
        password_hash: row.try_get("password_hash").op(d)?,
        totp_secret,
        totp_last_step: row.try_get("totp_last_step").op(d)?,
    })
}

/// Lower-cased, trimmed, and shaped like an address (no spaces or control characters, one `@`).
pub fn normalise_email(email: &str) -> Result<String> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.matches('@').count() == 1
        && !e.starts_with('@')
        && !e.ends_with('@')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(e)
    } else {
        Err(StoreError::invalid(
            "email",
            format!("{email:?} is not an address"),
        ))
    }
}

/// Checks a password an operator chooses.
pub fn check_new_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::invalid(
            "password",
            format!("{n} characters: {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

async fn hash_password(password: Zeroizing<String>) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt: [u8; 16] = random();
        Argon2::default()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::invalid("password", e.to_string()))
    })
    .await
    .map_err(|e| StoreError::backend("hash password", std::io::Error::other(e)))?
}

async fn verify_password(password: Zeroizing<String>, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A real hash of a random password: what an unknown email is verified against.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn dummy_hash() -> String {
    DUMMY_HASH
        .get_or_init(|| {
            let salt: [u8; 16] = random();
            let pw: [u8; 16] = random();
            Argon2::default()
                .hash_password_with_salt(&pw, &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

fn totp_aad(operator_id: &str) -> Vec<u8> {
    format!("operator-totp:{operator_id}").into_bytes()
}

impl Store {
    /// Creates an operator for a tenant (id or name) with a one-time password.
    pub async fn add_operator(
        &self,
        tenant: &str,
        email: &str,
        role: Role,
    ) -> Result<IssuedOperator> {
        let info = self.tenant(tenant).await?;
        self.check_active(&info.id).await?;
        let email = normalise_email(email)?;
        let password = new_token("", 15);
        let hash = hash_password(password.clone()).await?;
        let id = new_id();
        let now = self.now();
        let done = sqlx::query(
            "INSERT INTO operators (id, tenant_id, email, role, password_hash, must_change, totp_secret, \
             totp_last_step, failed_logins, locked_until, created_at, disabled_at) \
             VALUES ($1, $2, $3, $4, $5, 1, NULL, NULL, 0, NULL, $6, NULL)",
        )
        .bind(&id)
        .bind(&info.id)
        .bind(&email)
        .bind(role.as_str())
        .bind(&hash)
        .bind(now)
        .execute(self.db())
        .await;
        if let Err(e) = done {
            return Err(match &e {
                sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                    StoreError::Conflict {
                        what: "operator",
                        id: email,
                        reason: "this tenant already has an operator with that email",
                    }
                }
                _ => StoreError::backend("insert operator", e),
            });
        }
        Ok(IssuedOperator {
            operator: self.operator(&id).await?.op,
            one_time_password: password,
        })
    }

    /// The operators of a tenant (id or name).
    pub async fn list_operators(&self, tenant: &str) -> Result<Vec<Operator>> {
        let info = self.tenant(tenant).await?;
        let rows = sqlx::query(select_operator!(
            "WHERE tenant_id = $1 AND disabled_at IS NULL ORDER BY email"
        ))
        .bind(&info.id)
        .fetch_all(self.db())
        .await
        .op("list operators")?;
        rows.iter()
            .map(|r| operator_from_row(r).map(|o| o.op))
            .collect()
    }

    async fn operator(&self, id: &str) -> Result<OperatorRow> {
        let row = sqlx::query(select_operator!("WHERE id = $1 AND disabled_at IS NULL"))
            .bind(id)
            .fetch_optional(self.db())
            .await
            .op("load operator")?
            .ok_or_else(|| StoreError::not_found("operator", id))?;
        operator_from_row(&row)
    }

    async fn operator_by_email(&self, tenant_id: &str, email: &str) -> Result<Option<OperatorRow>> {
        let row = sqlx::query(select_operator!(
            "WHERE tenant_id = $1 AND email = $2 AND disabled_at IS NULL"
        ))
        .bind(tenant_id)
        .bind(email)
        .fetch_optional(self.db())
        .await
        .op("load operator")?;
        row.as_ref().map(operator_from_row).transpose()
    }

    /// The operator of a tenant (id or name) by email, and the email as normalised; not found
    /// when there is none.
    async fn existing_operator(&self, tenant: &str, email: &str) -> Result<(String, OperatorRow)> {
        let info = self.tenant(tenant).await?;
        let email = normalise_email(email)?;
        let row = self
            .operator_by_email(&info.id, &email)
            .await?
            .ok_or_else(|| StoreError::not_found("operator", &email))?;
        Ok((email, row))
    }

    /// Gives an operator (tenant id or name + email) a new TOTP key; from now on every login
    /// needs a code. Replaces any previous key.
    pub async fn set_operator_totp(&self, tenant: &str, email: &str) -> Result<IssuedTotp> {
        let (email, row) = self.existing_operator(tenant, email).await?;
        let key: Zeroizing<[u8; 20]> = Zeroizing::new(random());
        let sealed = self.keys().seal(&*key, &totp_aad(&row.op.id));
        sqlx::query("UPDATE operators SET totp_secret = $1, totp_last_step = NULL WHERE id = $2")
            .bind(&sealed)
            .bind(&row.op.id)
            .execute(self.db())
            .await
            .op("set totp")?;
        let secret = Zeroizing::new(totp::base32(&*key));
        let label = format!("faceproof:{}", email.replace(':', "%3A"));
        let uri = Zeroizing::new(format!(
            "otpauth://totp/{label}?secret={}&issuer=faceproof&algorithm=SHA1&digits={}&period={}",
            &*secret,
            totp::DIGITS,
            totp::STEP_SECS
        ));
        Ok(IssuedTotp { secret, uri })
    }

    /// Disables an operator (tenant id or name + email) at once: its logins end and it can no
    /// longer log in. Final: the email stays taken for this tenant (the audit log names it).
    pub async fn disable_operator(&self, tenant: &str, email: &str) -> Result<Operator> {
        let (_, row) = self.existing_operator(tenant, email).await?;
        let mut tx = self.db().begin().await.op("begin disable operator")?;
        sqlx::query("UPDATE operators SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(self.now())
            .bind(&row.op.id)
            .execute(&mut *tx)
            .await
            .op("disable operator")?;
        sqlx::query("DELETE FROM console_sessions WHERE operator_id = $1")
            .bind(&row.op.id)
            .execute(&mut *tx)
            .await
            .op("end operator sessions")?;
        tx.commit().await.op("commit disable operator")?;
        Ok(row.op)
    }

    /// Judges a login: tenant (id or name), email, password and (when the account has TOTP) a
    /// code. A granted login resets the failure count and opens a session.
    pub async fn operator_login(
        &self,
        tenant: &str,
        email: &str,
        password: &str,
        totp_code: Option<&str>,
        policy: &LoginPolicy,
    ) -> Result<LoginOutcome> {
        let pw = Zeroizing::new(password.to_owned());
        let found = match (self.tenant(tenant).await, normalise_email(email)) {
            (Ok(info), Ok(email)) if info.revoked_at_ms.is_none() => {
                self.operator_by_email(&info.id, &email).await?
            }
            (Err(e), _) if e.is_backend() => return Err(e),
            _ => None,
        };
        let Some(row) = found.filter(|_| password.len() <= MAX_PASSWORD_BYTES) else {
            // Same cost as a real account, so the answer's timing does not reveal the email.
            verify_password(pw, dummy_hash()).await;
            return Ok(LoginOutcome::Refused);
        };
        let now = self.now();
        if let Some(until) = row.op.locked_until_ms.filter(|u| *u > now) {
            return Ok(LoginOutcome::Locked { until_ms: until });
        }
        let mut ok = verify_password(pw, row.password_hash.clone()).await;
        let mut step = None;
        if ok && let Some(sealed) = &row.totp_secret {
            let key = self.keys().open(sealed, &totp_aad(&row.op.id))?;
            step = totp_code.and_then(|c| totp::verify(&key, c, now / 1000, row.totp_last_step));
            ok = step.is_some();
        }
        if !ok {
            return self.record_failure(&row.op, policy, now).await;
        }
        sqlx::query(
            "UPDATE operators SET failed_logins = 0, locked_until = NULL, \
             totp_last_step = COALESCE($1, totp_last_step) WHERE id = $2",
        )
        .bind(step)
        .bind(&row.op.id)
        .execute(self.db())
        .await
        .op("reset login failures")?;
        let token = new_token(CONSOLE_TOKEN_PREFIX, 32);
        let csrf = hex(&random::<32>());
        let expires = now.saturating_add(StoreConfig::ms(policy.session_ttl_secs));
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, operator_id, tenant_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(&row.op.id)
        .bind(&row.op.tenant_id)
        .bind(&csrf)
        .bind(now)
        .bind(expires)
        .execute(self.db())
        .await
        .op("open console session")?;
        let mut operator = row.op;
        operator.locked_until_ms = None;
        Ok(LoginOutcome::Granted(ConsoleLogin {
            token,
            csrf,
            operator,
            expires_at_ms: expires,
        }))
    }

    async fn record_failure(
        &self,
        op: &Operator,
        policy: &LoginPolicy,
        now: i64,
    ) -> Result<LoginOutcome> {
        let max = i64::from(policy.max_failures.max(1));
        let until = now.saturating_add(StoreConfig::ms(policy.lockout_secs));
        sqlx::query(
            "UPDATE operators SET \
             locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END, \
             failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END \
             WHERE id = $3",
        )
        .bind(max)
        .bind(until)
        .bind(&op.id)
        .execute(self.db())
        .await
        .op("count login failure")?;
        let locked: Option<i64> =
            sqlx::query_scalar("SELECT locked_until FROM operators WHERE id = $1")
                .bind(&op.id)
                .fetch_one(self.db())
                .await
                .op("load lock")?;
        Ok(match locked.filter(|u| *u > now) {
            Some(until_ms) => LoginOutcome::Locked { until_ms },
            None => LoginOutcome::Refused,
        })
    }

    /// The login session behind a cookie value; [`StoreError::Forbidden`] when unknown, expired,
    /// or when the operator or the tenant is gone.
    pub async fn console_session(&self, token: &str) -> Result<ConsoleSession> {
        let refused = StoreError::Forbidden {
            reason: "no valid console session",
        };
        if !token.starts_with(CONSOLE_TOKEN_PREFIX) || token.len() > 128 {
            return Err(refused);
        }
        let row = sqlx::query(
            "SELECT operator_id, tenant_id, csrf, expires_at FROM console_sessions WHERE token_hash = $1",
        )
        .bind(sha256_hex(token.as_bytes()))
        .fetch_optional(self.db())
        .await
        .op("load console session")?
        .ok_or(refused)?;
        let d = "decode console session";
        let expires: i64 = row.try_get("expires_at").op(d)?;
        if expires <= self.now() {
            return Err(StoreError::Forbidden {
                reason: "console session expired",
            });
        }
        let operator_id: String = row.try_get("operator_id").op(d)?;
        let operator = match self.operator(&operator_id).await {
            Ok(o) => o.op,
            Err(StoreError::NotFound { .. }) => {
                return Err(StoreError::Forbidden {
                    reason: "operator disabled",
                });
            }
            Err(e) => return Err(e),
        };
        let tenant_id: String = row.try_get("tenant_id").op(d)?;
        if tenant_id != operator.tenant_id {
            return Err(StoreError::corrupt("console session tenant"));
        }
        Ok(ConsoleSession {
            tenant: self.tenant_scope(&tenant_id).await?,
            operator,
            csrf: row.try_get("csrf").op(d)?,
            expires_at_ms: expires,
        })
    }

    /// Ends a login session (logout). Unknown tokens are ignored.
    pub async fn end_console_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(sha256_hex(token.as_bytes()))
            .bind(self.now())
            .execute(self.db())
            .await
            .op("end console session")?;
        Ok(())
    }

    /// Replaces an operator's password after checking the current one; clears `must_change` and
    /// ends the operator's other sessions (those not named by `keep_token`).
    pub async fn change_operator_password(
        &self,
        operator_id: &str,
        current: &str,
        new: &str,
        keep_token: &str,
    ) -> Result<()> {
        check_new_password(new)?;
        if current == new {
            return Err(StoreError::invalid(
                "password",
                "the new password must differ from the current one",
            ));
        }
        let row = self.operator(operator_id).await?;
        if current.len() > MAX_PASSWORD_BYTES
            || !verify_password(Zeroizing::new(current.to_owned()), row.password_hash).await
        {
            return Err(StoreError::Forbidden {
                reason: "current password is wrong",
            });
        }
        let hash = hash_password(Zeroizing::new(new.to_owned())).await?;
        let mut tx = self.db().begin().await.op("begin password change")?;
        sqlx::query("UPDATE operators SET password_hash = $1, must_change = 0 WHERE id = $2")
            .bind(&hash)
            .bind(operator_id)
            .execute(&mut *tx)
            .await
            .op("change password")?;
        sqlx::query("DELETE FROM console_sessions WHERE operator_id = $1 AND token_hash <> $2")
            .bind(operator_id)
            .bind(sha256_hex(keep_token.as_bytes()))
            .execute(&mut *tx)
            .await
            .op("end other sessions")?;
        tx.commit().await.op("commit password change")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_passwords() {
        assert_eq!(normalise_email(" Ana@Bank.VN ").unwrap(), "ana@bank.vn");
        for bad in ["", "ana", "@bank", "ana@", "a b@c", "a@b@c"] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_new_password("short").is_err());
        check_new_password("correct horse battery").unwrap();
        assert_eq!(Role::parse("admin").unwrap(), Role::Admin);
        assert!(Role::parse("root").is_err());
    }
}
