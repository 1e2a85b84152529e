-- Local accounts.
CREATE TABLE users (
    user_id UUID NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    locked_at TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ,
    can_request_admin BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT users_username_unique UNIQUE (username)
);
