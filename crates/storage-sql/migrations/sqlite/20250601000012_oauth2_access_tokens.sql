-- Access tokens, stored only as their SHA-256 (hex): introspection is one lookup of the
-- unique hash.
CREATE TABLE oauth2_access_tokens (
    oauth2_access_token_id TEXT NOT NULL PRIMARY KEY,
    oauth2_session_id TEXT NOT NULL
        REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    first_used_at TEXT,
    CONSTRAINT oauth2_access_tokens_token_hash_unique UNIQUE (token_hash)
) STRICT;

CREATE INDEX oauth2_access_tokens_oauth2_session_id_idx
    ON oauth2_access_tokens (oauth2_session_id);
