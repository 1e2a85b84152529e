-- Login tokens issued by an operator for a bot (`mas-cli manage issue-login-token`, the Admin
-- API): redeemed once at the Matrix login API (`m.login.token`) before they expire, for the
-- user and, when given, only for that device. Stored as their SHA-256 (hex).
CREATE TABLE compat_login_tokens (
    compat_login_token_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    login_token_hash TEXT NOT NULL,
    device_id TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    consumed_at TEXT,
    compat_session_id TEXT REFERENCES compat_sessions (compat_session_id) ON DELETE SET NULL,
    CONSTRAINT compat_login_tokens_login_token_hash_unique UNIQUE (login_token_hash)
) STRICT;

CREATE INDEX compat_login_tokens_user_id_idx ON compat_login_tokens (user_id);
CREATE INDEX compat_login_tokens_compat_session_id_idx ON compat_login_tokens (compat_session_id);
CREATE INDEX compat_login_tokens_expires_at_idx ON compat_login_tokens (expires_at);
