-- SQLite's migration 24: the recipient's country.
ALTER TABLE messages ADD COLUMN country TEXT;
