-- Password hashes, only ever added: the newest of a user is their password. A re-hash with a
-- newer scheme points at the hash it replaced.
CREATE TABLE user_passwords (
    user_password_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    hashed_password TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 0),
    upgraded_from_id UUID REFERENCES user_passwords (user_password_id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX user_passwords_user_id_created_at_idx ON user_passwords (user_id, created_at);
CREATE INDEX user_passwords_upgraded_from_id_idx ON user_passwords (upgraded_from_id);
