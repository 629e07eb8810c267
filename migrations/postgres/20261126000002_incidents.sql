CREATE TABLE incidents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    status TEXT NOT NULL CHECK (status IN ('investigating', 'mitigating', 'monitoring', 'resolved')),
    impact TEXT NOT NULL DEFAULT '',
    best_guess TEXT NOT NULL DEFAULT '',
    bridge_url TEXT NOT NULL DEFAULT '',
    decision_cadence_minutes BIGINT NOT NULL,
    update_cadence_minutes BIGINT NOT NULL,
    declared_by BIGINT NOT NULL REFERENCES users (id),
    declared_at TIMESTAMPTZ NOT NULL,
    last_check_in_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE role_assignments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    role TEXT NOT NULL CHECK (role IN ('ic', 'tech_lead', 'comms_lead', 'scribe', 'ops_lead', 'support_liaison', 'security_lead')),
    user_id BIGINT NOT NULL REFERENCES users (id),
    previous_user_id BIGINT REFERENCES users (id),
    assigned_by BIGINT NOT NULL REFERENCES users (id),
    assigned_at TIMESTAMPTZ NOT NULL,
    released_by BIGINT REFERENCES users (id),
    released_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX role_assignments_one_holder
    ON role_assignments (incident_id, role) WHERE released_at IS NULL;

CREATE TABLE rhythm_ticks (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    item TEXT NOT NULL,
    done_at TIMESTAMPTZ NOT NULL,
    done_by BIGINT REFERENCES users (id),
    PRIMARY KEY (incident_id, item)
);

CREATE TABLE decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    decided_at TIMESTAMPTZ NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    logged_by BIGINT NOT NULL REFERENCES users (id),
    result TEXT,
    result_at TIMESTAMPTZ,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE INDEX decisions_incident ON decisions (incident_id, decided_at);

CREATE TABLE timeline_entries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    at TIMESTAMPTZ NOT NULL,
    author_id BIGINT REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('note', 'event')),
    body TEXT NOT NULL,
    by_scribe BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX timeline_entries_incident ON timeline_entries (incident_id, id);
