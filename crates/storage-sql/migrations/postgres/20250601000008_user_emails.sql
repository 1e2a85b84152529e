-- Email addresses. `normalized_email` is the lowercase form, computed by the application (the
-- same way on every backend); an address belongs to one user at most, whatever its case.
CREATE TABLE user_emails (
    user_email_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    normalized_email TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT user_emails_normalized_email_unique UNIQUE (normalized_email)
);

CREATE INDEX user_emails_user_id_created_at_idx ON user_emails (user_id, created_at);
