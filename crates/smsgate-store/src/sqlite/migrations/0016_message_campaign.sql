-- The campaign a message's request named (a label when the account does
-- not enforce campaign checks; a subscription checked when it does).
ALTER TABLE messages ADD COLUMN campaign_ref TEXT;
