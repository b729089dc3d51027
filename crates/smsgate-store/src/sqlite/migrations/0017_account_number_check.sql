-- How strictly an account's recipients are checked: 'valid' or
-- 'possible'; NULL: the server's `[engine] number_check`.
ALTER TABLE accounts ADD COLUMN number_check TEXT;
