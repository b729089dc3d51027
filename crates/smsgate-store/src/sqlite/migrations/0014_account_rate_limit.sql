-- An account's own request limit (a token bucket: burst and refill per
-- minute); NULL: the server's default (`[engine.limits] per_account`).
ALTER TABLE accounts ADD COLUMN rate_burst INTEGER;
ALTER TABLE accounts ADD COLUMN rate_per_minute INTEGER;
