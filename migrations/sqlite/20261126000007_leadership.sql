-- The leadership layer: who may authorise high-impact mitigations, restricted
-- incidents, responders added by the IC, approvals, blockers, and postmortem
-- deadlines by severity.

ALTER TABLE users ADD COLUMN can_lead BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE incidents ADD COLUMN restricted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE incidents ADD COLUMN postmortem_due_on DATE;

-- People the IC added as responders (holding a role makes one a responder too).
CREATE TABLE incident_responders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    added_by INTEGER NOT NULL REFERENCES users (id),
    added_at TIMESTAMPTZ NOT NULL,
    removed_by INTEGER REFERENCES users (id),
    removed_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX incident_responders_once
    ON incident_responders (incident_id, user_id) WHERE removed_at IS NULL;

CREATE TABLE approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    mitigation TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by INTEGER NOT NULL REFERENCES users (id),
    requested_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'overridden')),
    decided_by INTEGER REFERENCES users (id),
    decided_at TIMESTAMPTZ,
    note TEXT NOT NULL DEFAULT ''
);

CREATE INDEX approvals_pending ON approvals (status, requested_at);

CREATE TABLE blockers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    description TEXT NOT NULL,
    raised_by INTEGER NOT NULL REFERENCES users (id),
    raised_at TIMESTAMPTZ NOT NULL,
    taken_by INTEGER REFERENCES users (id),
    taken_at TIMESTAMPTZ,
    resolved_by INTEGER REFERENCES users (id),
    resolved_at TIMESTAMPTZ,
    resolution TEXT NOT NULL DEFAULT ''
);

CREATE INDEX blockers_open ON blockers (resolved_at, incident_id);

CREATE TABLE postmortem_deadlines (
    severity TEXT PRIMARY KEY CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    business_days INTEGER NOT NULL
);

INSERT INTO postmortem_deadlines (severity, business_days)
    VALUES ('sev1', 3), ('sev2', 5), ('sev3', 10), ('sev4', 10);
