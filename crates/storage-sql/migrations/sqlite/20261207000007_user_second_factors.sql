-- Second factors. One TOTP authenticator per user: its secret encrypted with
-- `secrets.encryption`, unconfirmed until a first code proves that the user's app has it, and
-- the last time step a code was accepted for, so that no code is accepted twice. And the
-- user's single-use recovery codes, hashed.
CREATE TABLE user_totp (
    user_id TEXT NOT NULL PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    encrypted_secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    last_used_step INTEGER
) STRICT;

CREATE TABLE user_recovery_codes (
    user_recovery_code_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT,
    CONSTRAINT user_recovery_codes_user_id_code_hash_unique UNIQUE (user_id, code_hash)
) STRICT;
