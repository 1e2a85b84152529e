-- Codes sent to email addresses to verify them, at registration (user_id NULL) or when a user
-- adds an address. The code is stored only as its SHA-256 (hex); attempts counts the codes
-- submitted, right or wrong.
CREATE TABLE user_email_authentications (
    user_email_authentication_id UUID NOT NULL PRIMARY KEY,
    email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    user_id UUID REFERENCES users (user_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    attempts BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT user_email_authentications_attempts_non_negative CHECK (attempts >= 0)
);

CREATE INDEX user_email_authentications_user_id_idx ON user_email_authentications (user_id);
