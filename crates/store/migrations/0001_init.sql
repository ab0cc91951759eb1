-- faceproof store schema, version 1.
-- Portable SQL: the same text runs on SQLite and PostgreSQL. Times are Unix milliseconds (BIGINT),
-- identifiers and encoded secrets are TEXT, booleans are nullable timestamps (revoked_at, consumed_at).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    -- JSON object of per-tenant switches (TenantSettings); never holds secrets.
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- One row per credential. `kind` says how the other columns are used:
--   fpt_api_key        lookup = hex SHA-256 of the key, public_value = first characters (display)
--   advance_access_key lookup = the access key itself, sealed_secret = AEAD-sealed secret key
--   hpke_x25519        lookup = key id, public_value = base64 public key, sealed_secret = sealed private key
CREATE TABLE credentials (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    kind          TEXT NOT NULL,
    lookup        TEXT NOT NULL,
    public_value  TEXT,
    sealed_secret TEXT,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE UNIQUE INDEX credentials_lookup ON credentials (kind, lookup);
CREATE INDEX credentials_tenant ON credentials (tenant_id);

-- A session is visible only once committed. `result` is the API-neutral verdict JSON, never images,
-- face crops or embeddings. `expires_at` bounds when a pending session may be filled or consumed;
-- `retain_until` is when the retention purge deletes the row.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    alias        TEXT,
    api          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    consumed_at  BIGINT,
    retain_until BIGINT NOT NULL,
    result       TEXT
);
CREATE UNIQUE INDEX sessions_alias ON sessions (tenant_id, alias);
CREATE INDEX sessions_retention ON sessions (retain_until);

CREATE TABLE artefacts (
    session_id   TEXT NOT NULL REFERENCES sessions (id),
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    object_key   TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (session_id, name)
);
CREATE INDEX artefacts_expiry ON artefacts (expires_at);

-- Write-ahead intents for uploads in flight: a row exists from the first object write until the
-- commit transaction deletes it. Rows left behind by a crash or an error are swept with their
-- objects (everything under `prefix`) once older than the grace period.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    abandoned_at BIGINT
);
CREATE INDEX uploads_started ON uploads (started_at);
