-- Devices signed in through the Matrix login API (`/_matrix/client/v3/login`). A deleted user
-- takes their sessions along; a deleted browser session (the one of a single sign-on login)
-- does not.
CREATE TABLE compat_sessions (
    compat_session_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    human_name TEXT,
    user_session_id UUID REFERENCES user_sessions (user_session_id) ON DELETE SET NULL,
    is_synapse_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    user_agent TEXT,
    last_active_at TIMESTAMPTZ,
    last_active_ip TEXT
);

CREATE INDEX compat_sessions_user_id_device_id_idx ON compat_sessions (user_id, device_id);
CREATE INDEX compat_sessions_user_session_id_idx ON compat_sessions (user_session_id);
