-- faceproof store schema, version 8: the replicas serving now, each with the time it last said so,
-- so a replica can split the configured request rates by how many share the load (a client's
-- requests, spread over N replicas by the balancer, then meet the configured rate in all).
-- Portable SQL. `id` is random per process start.
CREATE TABLE replicas (
    id      TEXT PRIMARY KEY,
    seen_ms BIGINT NOT NULL
);
CREATE INDEX replicas_seen ON replicas (seen_ms);
