-- Second factors. One TOTP authenticator per user: its secret encrypted with
-- `secrets.encryption`, unconfirmed until a first code proves that the user's app has it, and
-- the last time step a code was accepted for, so that no code is accepted twice. And the
-- user's single-use recovery codes, hashed.
CREATE TABLE user_totp (
    user_id UUID NOT NULL PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    encrypted_secret TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    confirmed_at TIMESTAMPTZ,
    last_used_step BIGINT
);

CREATE TABLE user_recovery_codes (
    user_recovery_code_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    CONSTRAINT user_recovery_codes_user_id_code_hash_unique UNIQUE (user_id, code_hash)
);
