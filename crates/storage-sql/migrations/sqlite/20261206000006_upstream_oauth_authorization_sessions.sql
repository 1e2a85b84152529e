-- Sign-in attempts through upstream providers: the request's state (unique: it finds the
-- attempt at the callback), nonce and PKCE verifier; once the provider's answer is checked,
-- the account's link, the ID token and the claims; once used, the browser session it signed
-- in (so that a back-channel logout from the provider can end it).
CREATE TABLE upstream_oauth_authorization_sessions (
    upstream_oauth_authorization_session_id TEXT NOT NULL PRIMARY KEY,
    upstream_oauth_provider_id TEXT NOT NULL
        REFERENCES upstream_oauth_providers (upstream_oauth_provider_id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    nonce TEXT,
    code_verifier TEXT,
    post_auth_action TEXT,
    created_at TEXT NOT NULL,
    upstream_oauth_link_id TEXT
        REFERENCES upstream_oauth_links (upstream_oauth_link_id) ON DELETE CASCADE,
    id_token TEXT,
    id_token_claims TEXT,
    userinfo_claims TEXT,
    extra_callback_parameters TEXT,
    completed_at TEXT,
    user_session_id TEXT REFERENCES user_sessions (user_session_id) ON DELETE SET NULL,
    consumed_at TEXT,
    CONSTRAINT upstream_oauth_authorization_sessions_state_unique UNIQUE (state)
) STRICT;

CREATE INDEX upstream_oauth_authorization_sessions_link_idx
    ON upstream_oauth_authorization_sessions (upstream_oauth_link_id);
CREATE INDEX upstream_oauth_authorization_sessions_user_session_idx
    ON upstream_oauth_authorization_sessions (user_session_id);
