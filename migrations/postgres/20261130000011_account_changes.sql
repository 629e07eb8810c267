-- Changes to a person's account (sign-out, password, role, disabled, may
-- lead) join the change log, so every replica drops what it cached of them
-- and ends their event streams.
ALTER TABLE change_log ADD COLUMN account_id BIGINT;
ALTER TABLE change_log DROP CONSTRAINT change_log_kind_check;
ALTER TABLE change_log ADD CONSTRAINT change_log_kind_check
    CHECK (kind IN ('incident', 'restricted', 'status', 'account'));
