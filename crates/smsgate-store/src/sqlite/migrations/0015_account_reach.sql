-- Where an account may send. allowed_countries: ISO 3166-1 alpha-2 codes
-- separated by spaces, NULL: every country. allowed_number_types: the
-- restricted number types (premium-rate, satellite, ...) it may still send
-- to. velocity: its own velocity limits as JSON, NULL: the server's.
ALTER TABLE accounts ADD COLUMN allowed_countries TEXT;
ALTER TABLE accounts ADD COLUMN allowed_number_types TEXT;
ALTER TABLE accounts ADD COLUMN velocity TEXT;
