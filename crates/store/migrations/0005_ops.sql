-- faceproof store schema, version 5: webhook endpoints and the webhook outbox.
-- Portable SQL, like version 1.

-- A tenant's webhook endpoint: where events are POSTed, and the signing secret sealed under a key
-- derived from the master key (like ADVANCE secret keys). Removing an endpoint sets `revoked_at`.
CREATE TABLE webhook_endpoints (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    url           TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);

-- The outbox: one row per event and endpoint, inserted in the same transaction as what the event
-- reports (a session commit), so an event exists exactly when its cause does. `body` is the exact
-- JSON POSTed (signed at send time). A worker claims a due row with a conditional UPDATE that sets
-- `lease_owner` / `lease_until` (of replicas racing for a row one wins); a claim whose worker died
-- expires and the row is delivered again (at least once; receivers dedupe on the event id).
-- The row is also the per-tenant delivery log: attempts, last status, delivered or dead-lettered.
CREATE TABLE webhook_outbox (
    event_id        TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id),
    tenant_id       TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    delivered_at    BIGINT,
    dead_at         BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX webhook_outbox_tenant ON webhook_outbox (tenant_id, created_at);
