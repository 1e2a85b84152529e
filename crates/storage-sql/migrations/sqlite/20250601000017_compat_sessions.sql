-- Devices signed in through the Matrix login API (`/_matrix/client/v3/login`). A deleted user
-- takes their sessions along; a deleted browser session (the one of a single sign-on login)
-- does not.
CREATE TABLE compat_sessions (
    compat_session_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    human_name TEXT,
    user_session_id TEXT REFERENCES user_sessions (user_session_id) ON DELETE SET NULL,
    is_synapse_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_synapse_admin IN (0, 1)),
    created_at TEXT NOT NULL,
    finished_at TEXT,
    user_agent TEXT,
    last_active_at TEXT,
    last_active_ip TEXT
) STRICT;

CREATE INDEX compat_sessions_user_id_device_id_idx ON compat_sessions (user_id, device_id);
CREATE INDEX compat_sessions_user_session_id_idx ON compat_sessions (user_session_id);
