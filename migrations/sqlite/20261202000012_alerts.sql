-- Alerts in: integrations (one per sender), the alert groups their events
-- fold into, the alerts inside a group, and change events (deploys).
CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pagerduty', 'alertmanager')),
    -- SHA-256 of the routing key or bearer token, in hex: the secret itself
    -- is shown once and never stored.
    secret_hash TEXT NOT NULL UNIQUE,
    -- Our severity for critical, error, warning, info: "sev1,sev2,sev3,sev4".
    severity_map TEXT NOT NULL,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    -- Declare an incident for a new group this bad or worse (NULL: never).
    auto_declare TEXT CHECK (auto_declare IN ('sev1', 'sev2', 'sev3', 'sev4')),
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    rotated_at TIMESTAMPTZ,
    last_event_at TIMESTAMPTZ
);

CREATE TABLE alert_groups (
    id INTEGER PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES integrations (id),
    dedup_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
    summary TEXT NOT NULL,
    source TEXT NOT NULL,
    sender_severity TEXT NOT NULL CHECK (sender_severity IN ('critical', 'error', 'warning', 'info')),
    severity TEXT NOT NULL CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    -- A JSON list of [name, value] pairs: labels, annotations, details.
    details TEXT NOT NULL,
    link TEXT,
    started_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    last_event_at TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    events BIGINT NOT NULL DEFAULT 1,
    incident_id BIGINT REFERENCES incidents (id),
    attached_at TIMESTAMPTZ,
    dismissed_at TIMESTAMPTZ,
    dismissed_by BIGINT REFERENCES users (id),
    dismiss_reason TEXT
);
-- One open group per key and sender: a repeat is a duplicate, a trigger
-- after the group resolved opens a new one.
CREATE UNIQUE INDEX alert_groups_open_key ON alert_groups (integration_id, dedup_key)
    WHERE state <> 'resolved';
CREATE INDEX alert_groups_incident ON alert_groups (incident_id);
CREATE INDEX alert_groups_received ON alert_groups (received_at);

CREATE TABLE alert_items (
    group_id BIGINT NOT NULL REFERENCES alert_groups (id),
    fingerprint TEXT NOT NULL,
    firing BOOLEAN NOT NULL,
    summary TEXT NOT NULL,
    starts_at TIMESTAMPTZ,
    ends_at TIMESTAMPTZ,
    PRIMARY KEY (group_id, fingerprint)
);

CREATE TABLE change_events (
    id INTEGER PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES integrations (id),
    summary TEXT NOT NULL,
    source TEXT NOT NULL,
    link TEXT,
    happened_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX change_events_happened ON change_events (happened_at);

-- The alert inbox joins the change log: browsers showing it refetch.
-- SQLite cannot change a CHECK constraint: the table is rebuilt.
CREATE TABLE change_log_new (
    seq INTEGER PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('incident', 'restricted', 'status', 'account', 'alerts')),
    incident_number INTEGER,
    account_id INTEGER
);
INSERT INTO change_log_new (seq, at, kind, incident_number, account_id)
    SELECT seq, at, kind, incident_number, account_id FROM change_log;
DROP TABLE change_log;
ALTER TABLE change_log_new RENAME TO change_log;
CREATE INDEX change_log_at ON change_log (at);
CREATE INDEX change_log_incident ON change_log (incident_number, seq);
