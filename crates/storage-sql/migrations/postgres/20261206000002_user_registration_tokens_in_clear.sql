-- Registration tokens are shown to administrators (the Admin API lists them, as MAS's does),
-- so new ones keep their clear value beside the hash used for lookups. Tokens made before
-- have none.
ALTER TABLE user_registration_tokens ADD COLUMN token TEXT;
