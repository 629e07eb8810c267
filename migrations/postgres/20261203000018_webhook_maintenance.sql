-- Webhooks hear of maintenance windows as well as updates: a delivery is of
-- exactly one of them.
ALTER TABLE webhook_deliveries ALTER COLUMN update_id DROP NOT NULL;
ALTER TABLE webhook_deliveries ADD COLUMN maintenance_id BIGINT REFERENCES maintenances (id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_one_subject
    CHECK ((update_id IS NULL) <> (maintenance_id IS NULL));
