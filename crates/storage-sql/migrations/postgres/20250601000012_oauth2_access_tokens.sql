-- Access tokens, stored only as their SHA-256 (hex): introspection is one lookup of the
-- unique hash.
CREATE TABLE oauth2_access_tokens (
    oauth2_access_token_id UUID NOT NULL PRIMARY KEY,
    oauth2_session_id UUID NOT NULL
        REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    first_used_at TIMESTAMPTZ,
    CONSTRAINT oauth2_access_tokens_token_hash_unique UNIQUE (token_hash)
);

CREATE INDEX oauth2_access_tokens_oauth2_session_id_idx
    ON oauth2_access_tokens (oauth2_session_id);
