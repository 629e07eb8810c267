-- Chat platforms beside Slack, and webhooks that follow chosen components.
-- SQLite cannot change a CHECK in place: the table is rebuilt with its ids, and
-- the deliveries that point at it are checked again at commit.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE webhooks_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('slack', 'json', 'teams', 'mattermost', 'discord', 'google_chat')),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('customer', 'all')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO webhooks_new (id, name, kind, url, secret, audience, active, created_by, created_at)
    SELECT id, name, kind, url, secret, audience, active, created_by, created_at FROM webhooks;
DROP TABLE webhooks;
ALTER TABLE webhooks_new RENAME TO webhooks;

-- A webhook with rows here receives only updates of incidents that affect one
-- of these components; without rows, every update.
CREATE TABLE webhook_components (
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id),
    component_id INTEGER NOT NULL REFERENCES components (id),
    PRIMARY KEY (webhook_id, component_id)
);
