-- A published postmortem's customer-facing summary is an update with the
-- public status 'postmortem' (the Statuspage word). SQLite cannot change a
-- CHECK in place: the table is rebuilt with its ids, and what points at it
-- (webhook deliveries, mail) is checked again at commit.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE stakeholder_updates_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL CHECK (kind IN ('initial_internal', 'ongoing_internal', 'customer')),
    audience TEXT NOT NULL CHECK (audience IN ('internal', 'customer')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    public_status TEXT NOT NULL CHECK (public_status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem')),
    published_by INTEGER NOT NULL REFERENCES users (id),
    published_at TIMESTAMPTZ NOT NULL,
    next_update_at TIMESTAMPTZ,
    overridden TEXT NOT NULL DEFAULT ''
);
INSERT INTO stakeholder_updates_new (id, incident_id, kind, audience, title, body, public_status,
        published_by, published_at, next_update_at, overridden)
    SELECT id, incident_id, kind, audience, title, body, public_status,
        published_by, published_at, next_update_at, overridden FROM stakeholder_updates;
DROP TABLE stakeholder_updates;
ALTER TABLE stakeholder_updates_new RENAME TO stakeholder_updates;
CREATE INDEX stakeholder_updates_incident ON stakeholder_updates (incident_id, id);
CREATE INDEX stakeholder_updates_audience ON stakeholder_updates (audience, published_at);
