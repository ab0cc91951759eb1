-- faceproof store schema, version 3: face templates for 1:N search (opt-in per tenant).
-- Portable SQL, like version 1. One row per stored template:
--   list = 'probe'    a screened session's template, kept only so a review can enrol it or an
--                     operator can blocklist it; never searched
--   list = 'enrolled' an identity under the tenant's external reference (duplicate check)
--   list = 'blocked'  a blocklist entry (kept until deleted: retain_until is NULL)
-- `sealed` is the template (little-endian f32) envelope-encrypted like an artefact, bound to the
-- tenant and the row id; NULL once deleted. Deleting is a tombstone (sealed NULL, deleted_at set,
-- updated_at bumped) so every replica's index sees the removal through its `updated_at` cursor;
-- the purge drops tombstones once every replica has had time to read them.
CREATE TABLE gallery_templates (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    list         TEXT NOT NULL,
    external_ref TEXT,
    session_id   TEXT,
    embedder     TEXT NOT NULL,
    sealed       TEXT,
    operator     TEXT,
    reason       TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    retain_until BIGINT,
    deleted_at   BIGINT
);
CREATE INDEX gallery_changes ON gallery_templates (updated_at, id);
CREATE INDEX gallery_ref ON gallery_templates (tenant_id, external_ref);
CREATE INDEX gallery_session ON gallery_templates (tenant_id, session_id);
CREATE INDEX gallery_retention ON gallery_templates (retain_until);
