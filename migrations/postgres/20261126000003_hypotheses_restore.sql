CREATE TABLE hypotheses (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    statement TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'ruled_out')),
    evidence TEXT NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE INDEX hypotheses_incident ON hypotheses (incident_id, id);

CREATE TABLE restore_steps (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    step TEXT NOT NULL CHECK (step IN ('rollback', 'traffic_shift', 'feature_flag_off', 'capacity_add', 'dependency_bypass')),
    state TEXT NOT NULL CHECK (state IN ('tried', 'not_applicable')),
    safety TEXT CHECK (safety IN ('staged', 'canary', 'limited', 'untested')),
    note TEXT NOT NULL DEFAULT '',
    decision_id BIGINT REFERENCES decisions (id),
    decided_by BIGINT NOT NULL REFERENCES users (id),
    decided_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, step)
);
