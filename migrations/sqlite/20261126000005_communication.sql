-- Stakeholder communication: templates, published updates, the question queue,
-- the public status page (components, maintenance windows) and outbound webhooks.

CREATE TABLE update_templates (
    kind TEXT PRIMARY KEY CHECK (kind IN ('initial_internal', 'ongoing_internal', 'customer')),
    fields TEXT NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_by INTEGER NOT NULL REFERENCES users (id),
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE stakeholder_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL CHECK (kind IN ('initial_internal', 'ongoing_internal', 'customer')),
    audience TEXT NOT NULL CHECK (audience IN ('internal', 'customer')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    public_status TEXT NOT NULL CHECK (public_status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    published_by INTEGER NOT NULL REFERENCES users (id),
    published_at TIMESTAMPTZ NOT NULL,
    next_update_at TIMESTAMPTZ,
    overridden TEXT NOT NULL DEFAULT ''
);

CREATE INDEX stakeholder_updates_incident ON stakeholder_updates (incident_id, id);
CREATE INDEX stakeholder_updates_audience ON stakeholder_updates (audience, published_at);

CREATE TABLE stakeholder_questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    asked_by INTEGER NOT NULL REFERENCES users (id),
    asked_at TIMESTAMPTZ NOT NULL,
    question TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'answered', 'dismissed')),
    answer TEXT NOT NULL DEFAULT '',
    handled_by INTEGER REFERENCES users (id),
    handled_at TIMESTAMPTZ
);

CREATE INDEX stakeholder_questions_incident ON stakeholder_questions (incident_id, id);

CREATE TABLE components (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    group_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE incident_components (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    component_id INTEGER NOT NULL REFERENCES components (id),
    status TEXT NOT NULL CHECK (status IN ('degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, component_id)
);

CREATE TABLE maintenances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ
);

CREATE TABLE maintenance_components (
    maintenance_id INTEGER NOT NULL REFERENCES maintenances (id),
    component_id INTEGER NOT NULL REFERENCES components (id),
    PRIMARY KEY (maintenance_id, component_id)
);

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('slack', 'json')),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('customer', 'all')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id),
    update_id INTEGER NOT NULL REFERENCES stakeholder_updates (id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
