//! What the operator console reads and writes on sessions: the filter columns written at commit
//! ([`SessionIndex`]), keyset-paged lists, the dashboard's aggregates, and review decisions (each
//! stored with its audit entry in one transaction).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{APPEND_ATTEMPTS, AuditEntry, AuditEvent, append_in, retryable};
use crate::crypto::new_id;
use crate::error::{BackendOp, Result, StoreError};
use crate::sessions::{Api, SessionStatus};
use crate::tenants::TenantStore;

/// The engine's conclusion in one word, as the console filters it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The verdict passed.
    Passed,
    /// A verdict that did not pass (an error code, not live, no match).
    Refused,
    /// No verdict: the request was refused before judging (unreadable media, no face...).
    Unusable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Refused => "refused",
            Outcome::Unusable => "unusable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "passed" => Some(Outcome::Passed),
            "refused" => Some(Outcome::Refused),
            "unusable" => Some(Outcome::Unusable),
            _ => None,
        }
    }
}

/// One reason code of a verdict, as indexed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexedCode {
    /// The engine's snake_case code.
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
}

/// The filter columns of a session, derived by the server from the verdict it stores and written
/// in the commit that publishes it ([`crate::Upload::set_index`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionIndex {
    pub outcome: Outcome,
    pub need_review: bool,
    pub codes: Vec<IndexedCode>,
}

fn check_code(c: &str) -> Result<()> {
    let ok = !c.is_empty()
        && c.len() <= 64
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "code",
            format!("{c:?}: 1-64 of [a-z0-9_]"),
        ))
    }
}

impl SessionIndex {
    pub(crate) fn check(&self) -> Result<()> {
        for c in &self.codes {
            check_code(&c.code)?;
            if c.severity != "error" && c.severity != "warning" {
                return Err(StoreError::invalid("severity", c.severity.clone()));
            }
        }
        Ok(())
    }

    /// Writes the columns and the code rows inside the commit transaction.
    pub(crate) async fn write(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        tenant_id: &str,
        session_id: &str,
        created_at: i64,
    ) -> Result<()> {
        let mut codes: Vec<&IndexedCode> = Vec::new();
        for c in &self.codes {
            if !codes.iter().any(|x| x.code == c.code) {
                codes.push(c);
            }
        }
        let joined = codes
            .iter()
            .map(|c| c.code.as_str())
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(
            "UPDATE sessions SET outcome = $1, need_review = $2, codes = $3 WHERE id = $4 AND tenant_id = $5",
        )
        .bind(self.outcome.as_str())
        .bind(i64::from(self.need_review))
        .bind(joined)
        .bind(session_id)
        .bind(tenant_id)
        .execute(&mut **tx)
        .await
        .op("index session")?;
        for c in codes {
            sqlx::query(
                "INSERT INTO session_codes (tenant_id, code, created_at, session_id, severity) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(tenant_id)
            .bind(&c.code)
            .bind(created_at)
            .bind(session_id)
            .bind(&c.severity)
            .execute(&mut **tx)
            .await
            .op("index session code")?;
        }
        Ok(())
    }
}

/// Which sessions to list. Every field narrows; all empty lists every committed session.
#[derive(Clone, Debug, Default)]
pub struct SessionFilter {
    pub api: Option<Api>,
    pub outcome: Option<Outcome>,
    /// Sessions carrying this reason code (any severity).
    pub code: Option<String>,
    pub need_review: Option<bool>,
    /// Only sessions without a review decision.
    pub unreviewed: bool,
    /// `created_at >= from_ms`.
    pub from_ms: Option<i64>,
    /// `created_at < to_ms`.
    pub to_ms: Option<i64>,
    /// The tenant's external reference of the session (its alias: ADVANCE `signatureId`).
    pub reference: Option<String>,
}

/// Where a page starts: the last row of the previous page (`created_at`, `id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at_ms: i64,
    pub id: String,
}

impl Cursor {
    /// `MS.ID`, opaque to clients.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at_ms, self.id)
    }

    pub fn decode(s: &str) -> Result<Self> {
        let bad = || StoreError::invalid("cursor", "not a cursor from a previous page");
        let (ms, id) = s.split_once('.').ok_or_else(bad)?;
        if id.is_empty() || id.len() > 64 {
            return Err(bad());
        }
        Ok(Cursor {
            created_at_ms: ms.parse().map_err(|_| bad())?,
            id: id.to_owned(),
        })
    }
}

/// A session as listed: no verdict JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub reference: Option<String>,
    pub api: Api,
    pub kind: String,
    pub status: SessionStatus,
    pub created_at_ms: i64,
    pub outcome: Option<Outcome>,
    pub need_review: Option<bool>,
    pub codes: Vec<String>,
    pub review: Option<String>,
}

/// One page and where the next starts (`None` at the end).
#[derive(Clone, Debug, Serialize)]
pub struct SessionPage {
    pub sessions: Vec<SessionSummary>,
    pub next: Option<String>,
}

fn summary_from_row(row: &AnyRow) -> Result<SessionSummary> {
    let d = "decode session summary";
    let codes: Option<String> = row.try_get("codes").op(d)?;
    let outcome: Option<String> = row.try_get("outcome").op(d)?;
    let status: String = row.try_get("status").op(d)?;
    Ok(SessionSummary {
        id: row.try_get("id").op(d)?,
        reference: row.try_get("alias").op(d)?,
        api: Api::parse(&row.try_get::<String, _>("api").op(d)?)?,
        kind: row.try_get("kind").op(d)?,
        status: match status.as_str() {
            "pending" => SessionStatus::Pending,
            "complete" => SessionStatus::Complete,
            _ => SessionStatus::Failed,
        },
        created_at_ms: row.try_get("created_at").op(d)?,
        outcome: outcome.as_deref().and_then(Outcome::parse),
        need_review: row
            .try_get::<Option<i64>, _>("need_review")
            .op(d)?
            .map(|v| v != 0),
        codes: codes
            .filter(|c| !c.is_empty())
            .map(|c| c.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        review: row.try_get("review").op(d)?,
    })
}

/// A bind value of a built query.
enum Bind {
    Text(String),
    Int(i64),
}

/// The list query for a filter: driven by `session_codes` when a code is asked for (its primary
/// key is the range), else by `sessions` (one of the `sessions_console_*` indexes). Both order
/// by (created_at DESC, id DESC) and continue after the cursor with a row-value comparison,
/// which SQLite and PostgreSQL both answer from the index.
fn list_query(
    tenant: &str,
    f: &SessionFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> (String, Vec<Bind>) {
    let mut binds = vec![Bind::Text(tenant.to_owned())];
    let mut sql = String::from(
        "SELECT s.id, s.alias, s.api, s.kind, s.status, s.created_at, s.outcome, s.need_review, \
         s.codes, s.review FROM ",
    );
    let (t, id) = if let Some(code) = &f.code {
        binds.push(Bind::Text(code.clone()));
        sql.push_str(
            "session_codes c JOIN sessions s ON s.id = c.session_id \
             WHERE c.tenant_id = $1 AND c.code = $2 AND s.tenant_id = $1",
        );
        ("c.created_at", "c.session_id")
    } else {
        sql.push_str("sessions s WHERE s.tenant_id = $1");
        ("s.created_at", "s.id")
    };
    let mut push = |clause: &str, b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    push(
        " AND s.status <> ?",
        Bind::Text(SessionStatus::Pending.as_str().into()),
        &mut binds,
    );
    if let Some(api) = f.api {
        push(
            " AND s.api = ?",
            Bind::Text(api.as_str().into()),
            &mut binds,
        );
    }
    if let Some(o) = f.outcome {
        push(
            " AND s.outcome = ?",
            Bind::Text(o.as_str().into()),
            &mut binds,
        );
    }
    if let Some(n) = f.need_review {
        push(
            " AND s.need_review = ?",
            Bind::Int(i64::from(n)),
            &mut binds,
        );
    }
    if let Some(from) = f.from_ms {
        push(&format!(" AND {t} >= ?"), Bind::Int(from), &mut binds);
    }
    if let Some(to) = f.to_ms {
        push(&format!(" AND {t} < ?"), Bind::Int(to), &mut binds);
    }
    if let Some(r) = &f.reference {
        push(" AND s.alias = ?", Bind::Text(r.clone()), &mut binds);
    }
    if let Some(c) = after {
        binds.push(Bind::Int(c.created_at_ms));
        binds.push(Bind::Text(c.id.clone()));
        let (a, b) = (binds.len() - 1, binds.len());
        sql.push_str(&format!(" AND ({t}, {id}) < (${a}, ${b})"));
    }
    if f.unreviewed {
        sql.push_str(" AND s.review IS NULL");
    }
    binds.push(Bind::Int(limit));
    sql.push_str(&format!(
        " ORDER BY {t} DESC, {id} DESC LIMIT ${}",
        binds.len()
    ));
    (sql, binds)
}

/// Sessions per day and API.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayVolume {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    pub api: String,
    pub total: i64,
    pub passed: i64,
    pub need_review: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CodeCount {
    pub code: String,
    pub count: i64,
}

/// Sessions waiting for a human: need_review and no decision yet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Backlog {
    pub open: i64,
    pub oldest_at_ms: Option<i64>,
    /// Open sessions by age: under 1 h, 1-24 h, 1-7 days, older.
    pub by_age: [i64; 4],
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dashboard {
    pub from_ms: i64,
    pub to_ms: i64,
    pub volume: Vec<DayVolume>,
    pub top_codes: Vec<CodeCount>,
    pub backlog: Backlog,
    /// Decisions in the window: approved, rejected.
    pub reviews: [i64; 2],
}

/// A review decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "approved" => Ok(Decision::Approved),
            "rejected" => Ok(Decision::Rejected),
            other => Err(StoreError::corrupt(format!("review decision {other:?}"))),
        }
    }
}

/// A stored review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    pub id: String,
    pub session_id: String,
    pub operator_id: String,
    pub operator_email: Option<String>,
    pub decision: Decision,
    /// One of the console's fixed reasons.
    pub reason: String,
    /// Free text.
    pub note: String,
    pub created_at_ms: i64,
}

/// Longest free-text note of a review, characters.
pub const MAX_NOTE_CHARS: usize = 2000;

impl TenantStore {
    /// One page of this tenant's sessions, newest first.
    pub async fn list_sessions(
        &self,
        filter: &SessionFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<SessionPage> {
        if let Some(c) = &filter.code {
            check_code(c)?;
        }
        let limit = i64::from(limit.clamp(1, 200));
        let (sql, binds) = list_query(&self.tenant_id, filter, after, limit + 1);
        // Built from literals and `$N` placeholders only; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(self.store.db()).await.op("list sessions")?;
        let mut sessions = rows
            .iter()
            .map(summary_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next = if sessions.len() as i64 > limit {
            sessions.truncate(limit as usize);
            sessions.last().map(|s| {
                Cursor {
                    created_at_ms: s.created_at_ms,
                    id: s.id.clone(),
                }
                .encode()
            })
        } else {
            None
        };
        Ok(SessionPage { sessions, next })
    }

    /// The dashboard's aggregates over `[from_ms, to_ms)`; the backlog is as of now.
    pub async fn dashboard(&self, from_ms: i64, to_ms: i64) -> Result<Dashboard> {
        let db = self.store.db();
        let d = "decode dashboard";
        let rows = sqlx::query(
            "SELECT created_at / 86400000 AS day, api, COUNT(*) AS total, \
             SUM(CASE WHEN outcome = 'passed' THEN 1 ELSE 0 END) AS passed, \
             SUM(CASE WHEN need_review = 1 THEN 1 ELSE 0 END) AS need_review \
             FROM sessions WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 AND status <> 'pending' \
             GROUP BY created_at / 86400000, api ORDER BY day, api",
        )
        .bind(&self.tenant_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(db)
        .await
        .op("dashboard volume")?;
        let volume = rows
            .iter()
            .map(|r| {
                Ok(DayVolume {
                    day: r.try_get("day").op(d)?,
                    api: r.try_get("api").op(d)?,
                    total: r.try_get("total").op(d)?,
                    passed: r.try_get::<Option<i64>, _>("passed").op(d)?.unwrap_or(0),
                    need_review: r
                        .try_get::<Option<i64>, _>("need_review")
                        .op(d)?
                        .unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query(
            "SELECT code, COUNT(*) AS n FROM session_codes WHERE tenant_id = $1 AND created_at >= $2 \
             AND created_at < $3 GROUP BY code ORDER BY n DESC, code LIMIT 10",
        )
        .bind(&self.tenant_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(db)
        .await
        .op("dashboard codes")?;
        let top_codes = rows
            .iter()
            .map(|r| {
                Ok(CodeCount {
                    code: r.try_get("code").op(d)?,
                    count: r.try_get("n").op(d)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let now = self.store.now();
        let (h, day, week) = (now - 3_600_000, now - 86_400_000, now - 7 * 86_400_000);
        let r = sqlx::query(
            "SELECT COUNT(*) AS open, MIN(created_at) AS oldest, \
             SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0 END) AS a, \
             SUM(CASE WHEN created_at < $2 AND created_at >= $3 THEN 1 ELSE 0 END) AS b, \
             SUM(CASE WHEN created_at < $3 AND created_at >= $4 THEN 1 ELSE 0 END) AS c, \
             SUM(CASE WHEN created_at < $4 THEN 1 ELSE 0 END) AS e \
             FROM sessions WHERE tenant_id = $1 AND need_review = 1 AND review IS NULL",
        )
        .bind(&self.tenant_id)
        .bind(h)
        .bind(day)
        .bind(week)
        .fetch_one(db)
        .await
        .op("dashboard backlog")?;
        let g = |k: &str| -> Result<i64> { Ok(r.try_get::<Option<i64>, _>(k).op(d)?.unwrap_or(0)) };
        let backlog = Backlog {
            open: g("open")?,
            oldest_at_ms: r.try_get("oldest").op(d)?,
            by_age: [g("a")?, g("b")?, g("c")?, g("e")?],
        };
        let r = sqlx::query(
            "SELECT SUM(CASE WHEN decision = 'approved' THEN 1 ELSE 0 END) AS a, \
             SUM(CASE WHEN decision = 'rejected' THEN 1 ELSE 0 END) AS r \
             FROM reviews WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3",
        )
        .bind(&self.tenant_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(db)
        .await
        .op("dashboard reviews")?;
        let reviews = [
            r.try_get::<Option<i64>, _>("a").op(d)?.unwrap_or(0),
            r.try_get::<Option<i64>, _>("r").op(d)?.unwrap_or(0),
        ];
        Ok(Dashboard {
            from_ms,
            to_ms,
            volume,
            top_codes,
            backlog,
            reviews,
        })
    }

    /// Records an operator's decision on one of this tenant's sessions, sets the session's
    /// `review`, and appends `review.decided` to the audit log, all in one transaction.
    pub async fn decide(
        &self,
        session_id: &str,
        operator_id: &str,
        decision: Decision,
        reason: &str,
        note: &str,
    ) -> Result<(Review, AuditEntry)> {
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(StoreError::invalid(
                "note",
                format!(
                    "{} characters (limit {MAX_NOTE_CHARS})",
                    note.chars().count()
                ),
            ));
        }
        check_code(reason).map_err(|_| StoreError::invalid("reason", format!("{reason:?}")))?;
        // The session must be this tenant's (another tenant's id reads as not found).
        let s = self.session(session_id).await?;
        let mut last = None;
        for _ in 0..APPEND_ATTEMPTS {
            let now = self.store.now();
            let review = Review {
                id: new_id(),
                session_id: s.id.clone(),
                operator_id: operator_id.to_owned(),
                operator_email: None,
                decision,
                reason: reason.to_owned(),
                note: note.to_owned(),
                created_at_ms: now,
            };
            let mut tx = self.store.begin_write().await?;
            sqlx::query(
                "INSERT INTO reviews (id, tenant_id, session_id, operator_id, decision, reason, note, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&review.id)
            .bind(&self.tenant_id)
            .bind(&review.session_id)
            .bind(operator_id)
            .bind(decision.as_str())
            .bind(reason)
            .bind(note)
            .bind(now)
            .execute(&mut *tx)
            .await
            .op("insert review")?;
            sqlx::query("UPDATE sessions SET review = $1 WHERE id = $2 AND tenant_id = $3")
                .bind(decision.as_str())
                .bind(&review.session_id)
                .bind(&self.tenant_id)
                .execute(&mut *tx)
                .await
                .op("mark session reviewed")?;
            let ev = AuditEvent {
                actor: operator_id,
                action: "review.decided",
                subject: &review.session_id,
                detail: serde_json::json!({
                    "review_id": review.id, "decision": decision.as_str(), "reason": reason, "note": note,
                }),
            };
            match append_in(&mut tx, &self.tenant_id, now, &ev).await {
                Ok(entry) => {
                    tx.commit().await.op("commit review")?;
                    return Ok((review, entry));
                }
                Err(e) if retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| StoreError::corrupt("review append")))
    }

    /// The reviews of one of this tenant's sessions, oldest first, with the operator's email.
    pub async fn reviews(&self, session_id: &str) -> Result<Vec<Review>> {
        let rows = sqlx::query(
            "SELECT r.id, r.session_id, r.operator_id, o.email, r.decision, r.reason, r.note, r.created_at \
             FROM reviews r LEFT JOIN operators o ON o.id = r.operator_id \
             WHERE r.tenant_id = $1 AND r.session_id = $2 ORDER BY r.created_at, r.id",
        )
        .bind(&self.tenant_id)
        .bind(session_id)
        .fetch_all(self.store.db())
        .await
        .op("list reviews")?;
        let d = "decode review";
        rows.iter()
            .map(|r| {
                Ok(Review {
                    id: r.try_get("id").op(d)?,
                    session_id: r.try_get("session_id").op(d)?,
                    operator_id: r.try_get("operator_id").op(d)?,
                    operator_email: r.try_get("email").op(d)?,
                    decision: Decision::parse(&r.try_get::<String, _>("decision").op(d)?)?,
                    reason: r.try_get("reason").op(d)?,
                    note: r.try_get("note").op(d)?,
                    created_at_ms: r.try_get("created_at").op(d)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let c = Cursor {
            created_at_ms: 1_700_000_000_123,
            id: "0b0e-x".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "12", "x.y", ".id", "12."] {
            assert!(Cursor::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn code_filter_drives_from_the_code_table() {
        let f = SessionFilter {
            code: Some("spoof".into()),
            api: Some(Api::Fpt),
            ..SessionFilter::default()
        };
        let (sql, binds) = list_query("t", &f, None, 51);
        assert!(
            sql.contains("FROM session_codes c JOIN sessions s"),
            "{sql}"
        );
        assert!(
            sql.ends_with("ORDER BY c.created_at DESC, c.session_id DESC LIMIT $5"),
            "{sql}"
        );
        assert_eq!(binds.len(), 5);
    }
}
