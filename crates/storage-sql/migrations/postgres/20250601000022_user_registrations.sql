-- Registrations waiting for their email address to be verified: the form's values, the
-- password already hashed, until the code is given and the account made (completed_at).
CREATE TABLE user_registrations (
    user_registration_id UUID NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    hashed_password TEXT NOT NULL,
    password_version BIGINT NOT NULL,
    display_name TEXT,
    email TEXT NOT NULL,
    user_registration_token_id UUID
        REFERENCES user_registration_tokens (user_registration_token_id) ON DELETE SET NULL,
    continuation TEXT,
    user_email_authentication_id UUID NOT NULL
        REFERENCES user_email_authentications (user_email_authentication_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ
);

CREATE INDEX user_registrations_user_registration_token_id_idx
    ON user_registrations (user_registration_token_id);
CREATE INDEX user_registrations_user_email_authentication_id_idx
    ON user_registrations (user_email_authentication_id);
