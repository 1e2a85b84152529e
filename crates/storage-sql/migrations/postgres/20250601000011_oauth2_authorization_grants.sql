-- Authorization requests, until their code is exchanged. The code is stored only as its
-- SHA-256 (hex). The stage is told by which of fulfilled_at / exchanged_at / cancelled_at are
-- set, and the checks keep those columns describing exactly one stage.
CREATE TABLE oauth2_authorization_grants (
    oauth2_authorization_grant_id UUID NOT NULL PRIMARY KEY,
    oauth2_client_id UUID NOT NULL
        REFERENCES oauth2_clients (oauth2_client_id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    state TEXT,
    nonce TEXT,
    response_mode TEXT NOT NULL CHECK (response_mode IN ('query', 'fragment', 'form_post')),
    response_type_code BOOLEAN NOT NULL,
    response_type_id_token BOOLEAN NOT NULL,
    code_hash TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT CHECK (code_challenge_method IN ('plain', 'S256')),
    max_age BIGINT CHECK (max_age >= 0),
    login_hint TEXT,
    locale TEXT,
    requires_consent BOOLEAN NOT NULL DEFAULT FALSE,
    oauth2_session_id UUID REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    user_session_id UUID REFERENCES user_sessions (user_session_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    fulfilled_at TIMESTAMPTZ,
    exchanged_at TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    CONSTRAINT oauth2_authorization_grants_code_hash_unique UNIQUE (code_hash),
    CONSTRAINT oauth2_authorization_grants_pkce_whole
        CHECK ((code_challenge IS NULL) = (code_challenge_method IS NULL)),
    CONSTRAINT oauth2_authorization_grants_fulfilled_whole
        CHECK ((fulfilled_at IS NULL) = (oauth2_session_id IS NULL)
            AND (fulfilled_at IS NULL) = (user_session_id IS NULL)),
    CONSTRAINT oauth2_authorization_grants_exchanged_after_fulfilled
        CHECK (exchanged_at IS NULL OR fulfilled_at IS NOT NULL),
    CONSTRAINT oauth2_authorization_grants_cancelled_while_pending
        CHECK (cancelled_at IS NULL OR fulfilled_at IS NULL)
);

CREATE INDEX oauth2_authorization_grants_oauth2_client_id_idx
    ON oauth2_authorization_grants (oauth2_client_id);
CREATE INDEX oauth2_authorization_grants_oauth2_session_id_idx
    ON oauth2_authorization_grants (oauth2_session_id);
CREATE INDEX oauth2_authorization_grants_user_session_id_idx
    ON oauth2_authorization_grants (user_session_id);
