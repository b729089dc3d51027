-- The recipient's country (ISO 3166-1 alpha-2), as the intake found it:
-- statements and reports group by it without parsing numbers again.
ALTER TABLE messages ADD COLUMN country TEXT;
