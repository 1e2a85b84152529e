-- Refresh tokens of compatibility sessions, stored only as their SHA-256 (hex). Each belongs
-- with the access token issued alongside it, and goes when that one is deleted.
CREATE TABLE compat_refresh_tokens (
    compat_refresh_token_id TEXT NOT NULL PRIMARY KEY,
    compat_session_id TEXT NOT NULL
        REFERENCES compat_sessions (compat_session_id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    compat_access_token_id TEXT NOT NULL
        REFERENCES compat_access_tokens (compat_access_token_id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    consumed_at TEXT,
    revoked_at TEXT,
    CONSTRAINT compat_refresh_tokens_token_hash_unique UNIQUE (token_hash)
) STRICT;

CREATE INDEX compat_refresh_tokens_compat_session_id_idx
    ON compat_refresh_tokens (compat_session_id);
CREATE INDEX compat_refresh_tokens_compat_access_token_id_idx
    ON compat_refresh_tokens (compat_access_token_id);
