-- The metadata of dynamic client registration (RFC 7591). Static clients leave it empty.
ALTER TABLE oauth2_clients
    ADD COLUMN metadata_digest TEXT,
    ADD COLUMN application_type TEXT,
    ADD COLUMN response_types TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN logo_uri TEXT,
    ADD COLUMN policy_uri TEXT,
    ADD COLUMN tos_uri TEXT,
    ADD COLUMN contacts TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN token_endpoint_auth_signing_alg TEXT,
    ADD COLUMN id_token_signed_response_alg TEXT,
    ADD COLUMN userinfo_signed_response_alg TEXT,
    ADD COLUMN post_logout_redirect_uris TEXT[] NOT NULL DEFAULT '{}',
    -- `field#language-tag` → value.
    ADD COLUMN localized JSONB NOT NULL DEFAULT '{}';

-- Secret-less clients registering the same metadata again get the existing client.
CREATE UNIQUE INDEX oauth2_clients_metadata_digest_unique ON oauth2_clients (metadata_digest);
