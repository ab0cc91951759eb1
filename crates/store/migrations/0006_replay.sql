-- faceproof store schema, version 6: silent-API envelope pairs already judged, so a replayed pair
-- is refused on every replica. Portable SQL, like the earlier versions.
-- `digest` is the SHA-256 (hex) of the pair's HPKE encapsulated key, unique per sealed pair; a row
-- is kept until `expires_at` (the end of the window in which the pair's timestamp is accepted),
-- then purged by the next insert. The primary key makes the first insert win on every backend:
-- INSERT ... ON CONFLICT DO NOTHING affects one row for exactly one of concurrent requests.
CREATE TABLE seen_envelopes (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    digest     TEXT NOT NULL,
    seen_at    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, digest)
);
CREATE INDEX seen_envelopes_expiry ON seen_envelopes (expires_at);
