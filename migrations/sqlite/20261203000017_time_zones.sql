-- Each person's time zone (an IANA name); NULL until they choose one, and
-- pages show UTC until then.
ALTER TABLE users ADD COLUMN time_zone TEXT;
