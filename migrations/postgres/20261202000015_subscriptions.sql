-- E-mail subscribers of the public status page. `token` is the capability
-- every mail carries to manage or leave the subscription; `confirm_token`
-- lives only until the address is confirmed (double opt-in).
CREATE TABLE subscribers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL UNIQUE,
    confirm_token TEXT UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
    all_components BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    confirmed_at TIMESTAMPTZ,
    unsubscribed_at TIMESTAMPTZ
);

CREATE TABLE subscriber_components (
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id),
    component_id BIGINT NOT NULL REFERENCES components (id),
    PRIMARY KEY (subscriber_id, component_id)
);

-- Mail waiting to go out, sent by a background worker with retries, like
-- webhook deliveries. One row per mail; a claimed row is leased so a second
-- replica does not send it too.
CREATE TABLE mail_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id),
    kind TEXT NOT NULL CHECK (kind IN ('confirm', 'already', 'update', 'maintenance', 'reminder')),
    update_id BIGINT REFERENCES stakeholder_updates (id),
    maintenance_id BIGINT REFERENCES maintenances (id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'dropped')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
CREATE UNIQUE INDEX mail_outbox_one_per_update ON mail_outbox (subscriber_id, update_id)
    WHERE update_id IS NOT NULL;
CREATE UNIQUE INDEX mail_outbox_one_per_maintenance ON mail_outbox (subscriber_id, maintenance_id, kind)
    WHERE maintenance_id IS NOT NULL;

-- When the reminder before a window was queued (once, whichever replica).
ALTER TABLE maintenances ADD COLUMN reminded_at TIMESTAMPTZ;
