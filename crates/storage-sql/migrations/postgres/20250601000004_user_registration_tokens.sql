-- Registration tokens, stored only as the SHA-256 (hex) of the token.
CREATE TABLE user_registration_tokens (
    user_registration_token_id UUID NOT NULL PRIMARY KEY,
    token_hash TEXT NOT NULL,
    usage_limit BIGINT CHECK (usage_limit >= 0),
    times_used BIGINT NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    CONSTRAINT user_registration_tokens_token_hash_unique UNIQUE (token_hash)
);
