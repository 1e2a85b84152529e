-- A browser session's authentications also record the second factors: a code of an
-- authenticator app, a recovery code, or a passkey. SQLite cannot change a CHECK constraint:
-- the table is rebuilt (no other table refers to it).
CREATE TABLE user_session_authentications_widened (
    user_session_authentication_id TEXT NOT NULL PRIMARY KEY,
    user_session_id TEXT NOT NULL
        REFERENCES user_sessions (user_session_id) ON DELETE CASCADE,
    kind TEXT NOT NULL
        CHECK (kind IN ('password', 'upstream', 'totp', 'recovery_code', 'passkey')),
    created_at TEXT NOT NULL
) STRICT;

INSERT INTO user_session_authentications_widened
    SELECT user_session_authentication_id, user_session_id, kind, created_at
    FROM user_session_authentications;

DROP TABLE user_session_authentications;

ALTER TABLE user_session_authentications_widened RENAME TO user_session_authentications;

CREATE INDEX user_session_authentications_user_session_id_created_at_idx
    ON user_session_authentications (user_session_id, created_at);
