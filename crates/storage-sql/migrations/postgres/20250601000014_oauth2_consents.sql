-- The scope tokens each user agreed to give each client, one row per token.
CREATE TABLE oauth2_consents (
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    oauth2_client_id UUID NOT NULL
        REFERENCES oauth2_clients (oauth2_client_id) ON DELETE CASCADE,
    scope_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, oauth2_client_id, scope_token)
);

CREATE INDEX oauth2_consents_oauth2_client_id_idx ON oauth2_consents (oauth2_client_id);
