-- Registration tokens, stored only as the SHA-256 (hex) of the token.
CREATE TABLE user_registration_tokens (
    user_registration_token_id TEXT NOT NULL PRIMARY KEY,
    token_hash TEXT NOT NULL,
    usage_limit INTEGER CHECK (usage_limit >= 0),
    times_used INTEGER NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT,
    CONSTRAINT user_registration_tokens_token_hash_unique UNIQUE (token_hash)
) STRICT;
