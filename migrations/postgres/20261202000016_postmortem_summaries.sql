-- A published postmortem's customer-facing summary is an update with the
-- public status 'postmortem' (the Statuspage word).
ALTER TABLE stakeholder_updates DROP CONSTRAINT stakeholder_updates_public_status_check;
ALTER TABLE stakeholder_updates ADD CONSTRAINT stakeholder_updates_public_status_check
    CHECK (public_status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem'));
