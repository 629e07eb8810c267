-- Chat platforms beside Slack, and webhooks that follow chosen components.
ALTER TABLE webhooks DROP CONSTRAINT webhooks_kind_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_kind_check
    CHECK (kind IN ('slack', 'json', 'teams', 'mattermost', 'discord', 'google_chat'));

-- A webhook with rows here receives only updates of incidents that affect one
-- of these components; without rows, every update.
CREATE TABLE webhook_components (
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
    component_id BIGINT NOT NULL REFERENCES components (id),
    PRIMARY KEY (webhook_id, component_id)
);
