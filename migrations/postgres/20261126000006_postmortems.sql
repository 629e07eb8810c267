-- Postmortems: the document drafted from the incident, its timeline lines
-- (snapshotted at start, each one can be left out), action items tracked until
-- verified, and a private calendar token per user for their action items.

CREATE TABLE postmortems (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL UNIQUE REFERENCES incidents (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_review', 'published')),
    summary TEXT NOT NULL DEFAULT '',
    customer_impact TEXT NOT NULL DEFAULT '',
    users_affected TEXT NOT NULL DEFAULT '',
    failed_requests TEXT NOT NULL DEFAULT '',
    slo_budget_spent TEXT NOT NULL DEFAULT '',
    impact_started_at TIMESTAMPTZ,
    root_causes TEXT NOT NULL DEFAULT '',
    factors_technical TEXT NOT NULL DEFAULT '',
    factors_process TEXT NOT NULL DEFAULT '',
    detection_response TEXT NOT NULL DEFAULT '',
    went_well TEXT NOT NULL DEFAULT '',
    got_lucky TEXT NOT NULL DEFAULT '',
    started_by BIGINT NOT NULL REFERENCES users (id),
    started_at TIMESTAMPTZ NOT NULL,
    published_by BIGINT REFERENCES users (id),
    published_at TIMESTAMPTZ,
    lint_overridden TEXT NOT NULL DEFAULT '',
    meeting_at TIMESTAMPTZ,
    attendees TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE postmortem_lines (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    postmortem_id BIGINT NOT NULL REFERENCES postmortems (id),
    at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL,
    excluded BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX postmortem_lines_postmortem ON postmortem_lines (postmortem_id, at, id);

CREATE TABLE action_items (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    postmortem_id BIGINT NOT NULL REFERENCES postmortems (id),
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('prevention', 'detection', 'mitigation', 'process')),
    owner_id BIGINT REFERENCES users (id),
    due_on DATE,
    verification TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'verified')),
    top BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    finished_on DATE,
    evidence TEXT NOT NULL DEFAULT '',
    verified_by BIGINT REFERENCES users (id),
    verified_at TIMESTAMPTZ,
    confirmed_at TIMESTAMPTZ,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE INDEX action_items_postmortem ON action_items (postmortem_id, id);
CREATE INDEX action_items_owner ON action_items (owner_id, status);

CREATE TABLE calendar_tokens (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    token TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);
