-- faceproof store schema, version 2: server-issued challenges and browser capture tokens.
-- Portable SQL, like version 1. Both tables are single-use grants: `used_at` is set once by a
-- conditional UPDATE (... WHERE used_at IS NULL AND expires_at > now), so of two replicas racing for
-- the same row exactly one wins. Rows are purged once past `expires_at`.

-- A challenge issued to a tenant: `spec` is the engine's ChallengeSpec as JSON (kind and steps).
-- `signature_id` is set when the challenge is attached to an ADVANCE capture session (its alias).
CREATE TABLE challenges (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    kind         TEXT NOT NULL,
    spec         TEXT NOT NULL,
    signature_id TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX challenges_expiry ON challenges (expires_at);
CREATE INDEX challenges_signature ON challenges (tenant_id, signature_id);

-- A short-lived, single-use upload credential for a browser. Only the SHA-256 of the token is
-- stored (the token is 256-bit random, so a fast hash is enough), never the token itself.
CREATE TABLE capture_tokens (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    flow         TEXT NOT NULL,
    signature_id TEXT,
    challenge_id TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX capture_tokens_expiry ON capture_tokens (expires_at);
