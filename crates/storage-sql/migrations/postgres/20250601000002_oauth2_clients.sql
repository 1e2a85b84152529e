-- OAuth 2.0 clients, static (from the configuration file) or dynamically registered.
CREATE TABLE oauth2_clients (
    oauth2_client_id UUID NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL,
    is_static BOOLEAN NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    encrypted_client_secret TEXT,
    redirect_uris TEXT[] NOT NULL,
    client_name TEXT,
    client_uri TEXT,
    jwks JSONB,
    jwks_uri TEXT,
    grant_types TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT oauth2_clients_client_id_unique UNIQUE (client_id)
);
