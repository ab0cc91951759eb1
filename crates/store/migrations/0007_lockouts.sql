-- faceproof store schema, version 7: strikes against a client (failed authentications, and failed
-- checks when counted) and the lockouts they cause, shared by every replica, so a client spreading
-- its attempts over replicas is counted once and a lockout holds on all of them. Portable SQL.
-- `client` is the rate limiter's client key (an IPv4 address, or an IPv6 /64 as text).
CREATE TABLE client_strikes (
    client TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX client_strikes_client ON client_strikes (client, at);
CREATE INDEX client_strikes_at ON client_strikes (at);
CREATE TABLE client_lockouts (
    client     TEXT PRIMARY KEY,
    until_ms   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX client_lockouts_updated ON client_lockouts (updated_at);
