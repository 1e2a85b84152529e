-- OAuth 2.0 clients, static (from the configuration file) or dynamically registered. List
-- columns hold JSON arrays.
CREATE TABLE oauth2_clients (
    oauth2_client_id TEXT NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL,
    is_static INTEGER NOT NULL CHECK (is_static IN (0, 1)),
    token_endpoint_auth_method TEXT NOT NULL,
    encrypted_client_secret TEXT,
    redirect_uris TEXT NOT NULL,
    client_name TEXT,
    client_uri TEXT,
    jwks TEXT,
    jwks_uri TEXT,
    grant_types TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT oauth2_clients_client_id_unique UNIQUE (client_id)
) STRICT;
