-- The leadership layer: who may authorise high-impact mitigations, restricted
-- incidents, responders added by the IC, approvals, blockers, and postmortem
-- deadlines by severity.

ALTER TABLE users ADD COLUMN can_lead BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE incidents ADD COLUMN restricted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE incidents ADD COLUMN postmortem_due_on DATE;

-- People the IC added as responders (holding a role makes one a responder too).
CREATE TABLE incident_responders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    added_by BIGINT NOT NULL REFERENCES users (id),
    added_at TIMESTAMPTZ NOT NULL,
    removed_by BIGINT REFERENCES users (id),
    removed_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX incident_responders_once
    ON incident_responders (incident_id, user_id) WHERE removed_at IS NULL;

CREATE TABLE approvals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    mitigation TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by BIGINT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'overridden')),
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMPTZ,
    note TEXT NOT NULL DEFAULT ''
);

CREATE INDEX approvals_pending ON approvals (status, requested_at);

CREATE TABLE blockers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    description TEXT NOT NULL,
    raised_by BIGINT NOT NULL REFERENCES users (id),
    raised_at TIMESTAMPTZ NOT NULL,
    taken_by BIGINT REFERENCES users (id),
    taken_at TIMESTAMPTZ,
    resolved_by BIGINT REFERENCES users (id),
    resolved_at TIMESTAMPTZ,
    resolution TEXT NOT NULL DEFAULT ''
);

CREATE INDEX blockers_open ON blockers (resolved_at, incident_id);

CREATE TABLE postmortem_deadlines (
    severity TEXT PRIMARY KEY CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    business_days BIGINT NOT NULL
);

INSERT INTO postmortem_deadlines (severity, business_days)
    VALUES ('sev1', 3), ('sev2', 5), ('sev3', 10), ('sev4', 10);
