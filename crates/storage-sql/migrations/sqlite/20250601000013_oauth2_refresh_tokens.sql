-- Refresh tokens, stored only as their SHA-256 (hex). A consumed token points at the one
-- issued in its place.
CREATE TABLE oauth2_refresh_tokens (
    oauth2_refresh_token_id TEXT NOT NULL PRIMARY KEY,
    oauth2_session_id TEXT NOT NULL
        REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    oauth2_access_token_id TEXT
        REFERENCES oauth2_access_tokens (oauth2_access_token_id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    consumed_at TEXT,
    next_refresh_token_id TEXT
        REFERENCES oauth2_refresh_tokens (oauth2_refresh_token_id) ON DELETE SET NULL,
    revoked_at TEXT,
    CONSTRAINT oauth2_refresh_tokens_token_hash_unique UNIQUE (token_hash),
    CONSTRAINT oauth2_refresh_tokens_next_when_consumed
        CHECK (next_refresh_token_id IS NULL OR consumed_at IS NOT NULL)
) STRICT;

CREATE INDEX oauth2_refresh_tokens_oauth2_session_id_idx
    ON oauth2_refresh_tokens (oauth2_session_id);
CREATE INDEX oauth2_refresh_tokens_oauth2_access_token_id_idx
    ON oauth2_refresh_tokens (oauth2_access_token_id);
CREATE INDEX oauth2_refresh_tokens_next_refresh_token_id_idx
    ON oauth2_refresh_tokens (next_refresh_token_id);
