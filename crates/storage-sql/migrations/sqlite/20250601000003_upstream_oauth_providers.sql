-- Upstream providers, mirrored from the configuration file. The id is the one from the
-- file (a ULID or a short name), so it is text on both backends.
CREATE TABLE upstream_oauth_providers (
    upstream_oauth_provider_id TEXT NOT NULL PRIMARY KEY,
    issuer TEXT,
    human_name TEXT,
    brand_name TEXT,
    encrypted_client_secret TEXT,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT
) STRICT;
