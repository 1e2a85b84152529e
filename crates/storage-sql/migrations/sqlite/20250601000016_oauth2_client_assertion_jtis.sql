-- The `jti` of each client assertion (client_secret_jwt, private_key_jwt) accepted, kept
-- until the assertion expires, so that none is accepted twice.
CREATE TABLE oauth2_client_assertion_jtis (
    oauth2_client_id TEXT NOT NULL
        REFERENCES oauth2_clients (oauth2_client_id) ON DELETE CASCADE,
    jti TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (oauth2_client_id, jti)
) STRICT;

CREATE INDEX oauth2_client_assertion_jtis_expires_at_idx
    ON oauth2_client_assertion_jtis (oauth2_client_id, expires_at);
