-- Webhooks hear of maintenance windows as well as updates: a delivery is of
-- exactly one of them. SQLite cannot relax NOT NULL in place: the table is
-- rebuilt with its ids.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE webhook_deliveries_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id),
    update_id INTEGER REFERENCES stakeholder_updates (id),
    maintenance_id INTEGER REFERENCES maintenances (id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    CHECK ((update_id IS NULL) <> (maintenance_id IS NULL))
);
INSERT INTO webhook_deliveries_new (id, webhook_id, update_id, state, attempts, next_attempt_at,
    last_status, last_error, created_at, finished_at)
SELECT id, webhook_id, update_id, state, attempts, next_attempt_at, last_status, last_error,
    created_at, finished_at FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
