-- Personal sessions: long-lived credentials an owner (a user, or a client through the Admin
-- API) makes for an actor user, used through one personal access token at a time. A deleted
-- owner or actor takes its sessions along.
CREATE TABLE personal_sessions (
    personal_session_id UUID NOT NULL PRIMARY KEY,
    owner_user_id UUID REFERENCES users (user_id) ON DELETE CASCADE,
    owner_oauth2_client_id UUID
        REFERENCES oauth2_clients (oauth2_client_id) ON DELETE CASCADE,
    actor_user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    human_name TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_active_at TIMESTAMPTZ,
    last_active_ip TEXT,
    CONSTRAINT personal_sessions_one_owner
        CHECK ((owner_user_id IS NULL) <> (owner_oauth2_client_id IS NULL))
);

CREATE INDEX personal_sessions_owner_user_id_idx ON personal_sessions (owner_user_id);
CREATE INDEX personal_sessions_owner_oauth2_client_id_idx
    ON personal_sessions (owner_oauth2_client_id);
CREATE INDEX personal_sessions_actor_user_id_idx ON personal_sessions (actor_user_id);

-- Their tokens, stored only as their SHA-256 (hex); at most one is live per session.
CREATE TABLE personal_access_tokens (
    personal_access_token_id UUID NOT NULL PRIMARY KEY,
    personal_session_id UUID NOT NULL
        REFERENCES personal_sessions (personal_session_id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    CONSTRAINT personal_access_tokens_token_hash_unique UNIQUE (token_hash)
);

CREATE INDEX personal_access_tokens_personal_session_id_idx
    ON personal_access_tokens (personal_session_id);
