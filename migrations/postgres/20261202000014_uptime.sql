-- The status each component showed customers over time (not counting
-- maintenance windows, which keep their own times): one row per change.
-- Uptime per day is derived from it.
CREATE TABLE component_status_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    component_id BIGINT NOT NULL REFERENCES components (id),
    status TEXT NOT NULL CHECK (status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX component_status_log_component ON component_status_log (component_id, at);

-- History starts with what each component shows now.
INSERT INTO component_status_log (component_id, status, at)
    SELECT c.id, c.status, c.created_at FROM components c;

-- Writers that change a component's status take this row first, so two
-- replicas never log from stale reads.
INSERT INTO app_locks (name, n) VALUES ('component_status', 0);
