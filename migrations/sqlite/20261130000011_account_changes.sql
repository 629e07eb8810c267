-- Changes to a person's account (sign-out, password, role, disabled, may
-- lead) join the change log, so caches drop what they kept of them and
-- their event streams end. SQLite cannot change a CHECK constraint: the
-- table is rebuilt.
CREATE TABLE change_log_new (
    seq INTEGER PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('incident', 'restricted', 'status', 'account')),
    incident_number INTEGER,
    account_id INTEGER
);
INSERT INTO change_log_new (seq, at, kind, incident_number)
    SELECT seq, at, kind, incident_number FROM change_log;
DROP TABLE change_log;
ALTER TABLE change_log_new RENAME TO change_log;
CREATE INDEX change_log_at ON change_log (at);
CREATE INDEX change_log_incident ON change_log (incident_number, seq);
