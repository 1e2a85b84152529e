-- Access tokens of compatibility sessions, stored only as their SHA-256 (hex): introspection
-- is one lookup of the unique hash.
CREATE TABLE compat_access_tokens (
    compat_access_token_id TEXT NOT NULL PRIMARY KEY,
    compat_session_id TEXT NOT NULL
        REFERENCES compat_sessions (compat_session_id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    CONSTRAINT compat_access_tokens_token_hash_unique UNIQUE (token_hash)
) STRICT;

CREATE INDEX compat_access_tokens_compat_session_id_idx
    ON compat_access_tokens (compat_session_id);
