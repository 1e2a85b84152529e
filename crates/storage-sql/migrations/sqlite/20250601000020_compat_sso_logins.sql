-- Single sign-on logins of the Matrix login API, until their login token is exchanged. The
-- token is stored only as its SHA-256 (hex). The state is told by which of fulfilled_at /
-- exchanged_at are set, and the checks keep those columns describing exactly one state.
CREATE TABLE compat_sso_logins (
    compat_sso_login_id TEXT NOT NULL PRIMARY KEY,
    login_token_hash TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TEXT NOT NULL,
    fulfilled_at TEXT,
    exchanged_at TEXT,
    user_session_id TEXT REFERENCES user_sessions (user_session_id) ON DELETE CASCADE,
    compat_session_id TEXT REFERENCES compat_sessions (compat_session_id) ON DELETE CASCADE,
    CONSTRAINT compat_sso_logins_login_token_hash_unique UNIQUE (login_token_hash),
    CONSTRAINT compat_sso_logins_fulfilled_whole
        CHECK ((fulfilled_at IS NULL) = (user_session_id IS NULL)),
    CONSTRAINT compat_sso_logins_exchanged_whole
        CHECK ((exchanged_at IS NULL) = (compat_session_id IS NULL)),
    CONSTRAINT compat_sso_logins_exchanged_after_fulfilled
        CHECK (exchanged_at IS NULL OR fulfilled_at IS NOT NULL)
) STRICT;

CREATE INDEX compat_sso_logins_user_session_id_idx ON compat_sso_logins (user_session_id);
CREATE INDEX compat_sso_logins_compat_session_id_idx ON compat_sso_logins (compat_session_id);
