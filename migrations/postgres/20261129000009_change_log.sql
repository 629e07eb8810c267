-- The change log: every committed change that live pages, caches and other
-- replicas must hear about, appended in the same transaction as the change.
-- `seq` is gap-free and in commit order: writers take the 'changes' row of
-- app_locks just before committing and number their entries from it.
CREATE TABLE change_log (
    seq BIGINT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('incident', 'restricted', 'status')),
    incident_number BIGINT
);
CREATE INDEX change_log_at ON change_log (at);
-- The last change of one incident: the version of its shared war-room view.
CREATE INDEX change_log_incident ON change_log (incident_number, seq);
INSERT INTO app_locks (name, n) VALUES ('changes', 0);
