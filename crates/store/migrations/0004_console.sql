-- faceproof store schema, version 4: the operator console. Portable SQL, like version 1.

-- What the console filters sessions on, written by the commit that publishes the verdict (NULL on
-- sessions committed before this version, and on pending ones). `outcome` is `passed`, `refused`
-- or `unusable`; `need_review` 1 when the engine asked for a human (0 otherwise); `codes` the
-- reason codes, comma-separated, for display (filtering by code goes through `session_codes`);
-- `review` the latest operator decision (`approved` / `rejected`).
ALTER TABLE sessions ADD COLUMN outcome TEXT;
ALTER TABLE sessions ADD COLUMN need_review BIGINT;
ALTER TABLE sessions ADD COLUMN codes TEXT;
ALTER TABLE sessions ADD COLUMN review TEXT;

-- Keyset paging: every list is ordered by (created_at DESC, id DESC) within a tenant, and each
-- filter the console offers has an index that starts with the tenant and ends with that order.
CREATE INDEX sessions_console_time ON sessions (tenant_id, created_at, id);
CREATE INDEX sessions_console_api ON sessions (tenant_id, api, created_at, id);
CREATE INDEX sessions_console_outcome ON sessions (tenant_id, outcome, created_at, id);
CREATE INDEX sessions_console_backlog ON sessions (tenant_id, need_review, review, created_at, id);

-- One row per (session, reason code), so "sessions with code X" is an index range scan.
CREATE TABLE session_codes (
    tenant_id  TEXT NOT NULL,
    code       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    session_id TEXT NOT NULL,
    severity   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, code, created_at, session_id)
);
CREATE INDEX session_codes_session ON session_codes (session_id);

-- Operator accounts, per tenant. `password_hash` is an Argon2id PHC string; `totp_secret` the
-- sealed RFC 6238 key when TOTP is on, `totp_last_step` the last time step accepted (a code is
-- accepted once). `must_change` 1 until the one-time password is replaced.
-- `failed_logins` counts consecutive failures; `locked_until` is set when it reaches the limit.
CREATE TABLE operators (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    email         TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change   BIGINT NOT NULL,
    totp_secret   TEXT,
    totp_last_step BIGINT,
    failed_logins BIGINT NOT NULL,
    locked_until  BIGINT,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);
CREATE UNIQUE INDEX operators_email ON operators (tenant_id, email);

-- Console login sessions. Only the SHA-256 of the cookie value is stored; `csrf` is the
-- synchronizer token every state-changing request must echo in a header.
CREATE TABLE console_sessions (
    token_hash  TEXT PRIMARY KEY,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    tenant_id   TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Operator decisions on sessions. No foreign key: the retention purge deletes a session's reviews
-- with it, and the audit log keeps the decision's trace.
CREATE TABLE reviews (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX reviews_session ON reviews (tenant_id, session_id, created_at);
CREATE INDEX reviews_time ON reviews (tenant_id, created_at);

-- Append-only audit log, hash-chained per tenant: `hash` is SHA-256 over the canonical encoding of
-- the entry's fields and `prev_hash` (the previous entry's hash; 64 zeros for the first), so an
-- edited, deleted or inserted row breaks the chain at that point. `seq` counts from 1 per tenant;
-- two writers racing for the same `seq` collide on the primary key and one retries.
CREATE TABLE audit_log (
    tenant_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
