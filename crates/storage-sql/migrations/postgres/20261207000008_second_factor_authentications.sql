-- A browser session's authentications also record the second factors: a code of an
-- authenticator app, a recovery code, or a passkey.
ALTER TABLE user_session_authentications
    DROP CONSTRAINT user_session_authentications_kind_check;
ALTER TABLE user_session_authentications
    ADD CONSTRAINT user_session_authentications_kind_check
    CHECK (kind IN ('password', 'upstream', 'totp', 'recovery_code', 'passkey'));
