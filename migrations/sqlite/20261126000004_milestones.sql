ALTER TABLE incidents ADD COLUMN mitigated_at TIMESTAMPTZ;

CREATE TABLE milestone_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    milestone TEXT NOT NULL CHECK (milestone IN ('declared', 'core_roles_assigned', 'first_update', 'mitigated', 'resolved')),
    old_at TIMESTAMPTZ,
    new_at TIMESTAMPTZ NOT NULL,
    corrected_by INTEGER NOT NULL REFERENCES users (id),
    corrected_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX milestone_corrections_incident ON milestone_corrections (incident_id, id);
