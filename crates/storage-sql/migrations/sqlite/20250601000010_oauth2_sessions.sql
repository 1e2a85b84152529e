-- What a client was granted, for a user or (client_credentials) for itself. A deleted client
-- or user takes its sessions along; a deleted browser session does not.
CREATE TABLE oauth2_sessions (
    oauth2_session_id TEXT NOT NULL PRIMARY KEY,
    oauth2_client_id TEXT NOT NULL
        REFERENCES oauth2_clients (oauth2_client_id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (user_id) ON DELETE CASCADE,
    user_session_id TEXT REFERENCES user_sessions (user_session_id) ON DELETE SET NULL,
    scope TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    user_agent TEXT,
    last_active_at TEXT,
    last_active_ip TEXT,
    human_name TEXT
) STRICT;

CREATE INDEX oauth2_sessions_user_id_created_at_idx ON oauth2_sessions (user_id, created_at);
CREATE INDEX oauth2_sessions_oauth2_client_id_idx ON oauth2_sessions (oauth2_client_id);
CREATE INDEX oauth2_sessions_user_session_id_idx ON oauth2_sessions (user_session_id);
