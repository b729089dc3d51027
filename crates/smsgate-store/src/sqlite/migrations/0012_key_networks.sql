-- An API key may be limited to client addresses or networks
-- (space-separated, e.g. "192.0.2.7 10.0.0.0/8"); NULL: from anywhere.
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
