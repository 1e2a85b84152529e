-- Browser sessions: a user signed in to the service's own pages. Addresses are kept as text.
CREATE TABLE user_sessions (
    user_session_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    user_agent TEXT,
    last_active_at TIMESTAMPTZ,
    last_active_ip TEXT
);

CREATE INDEX user_sessions_user_id_created_at_idx ON user_sessions (user_id, created_at);

-- Each time a browser session's user proved who they are; the newest one is checked against
-- `max_age` and `prompt=login`.
CREATE TABLE user_session_authentications (
    user_session_authentication_id UUID NOT NULL PRIMARY KEY,
    user_session_id UUID NOT NULL
        REFERENCES user_sessions (user_session_id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('password', 'upstream')),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX user_session_authentications_user_session_id_created_at_idx
    ON user_session_authentications (user_session_id, created_at);
