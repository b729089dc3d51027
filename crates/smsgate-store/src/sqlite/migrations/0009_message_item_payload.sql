-- What dialects keep per message: the recipient's place in its request
-- (smsmanager names messages `<request>-<index>`), the client's payload
-- echoed in callbacks, and the body shape of the message's callback.

ALTER TABLE messages ADD COLUMN item INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN payload TEXT;
ALTER TABLE messages ADD COLUMN callback_format TEXT;
