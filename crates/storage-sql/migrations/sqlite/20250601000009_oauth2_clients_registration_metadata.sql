-- The metadata of dynamic client registration (RFC 7591). Static clients leave it empty. List
-- columns hold JSON arrays, `localized` a JSON object (`field#language-tag` → value).
ALTER TABLE oauth2_clients ADD COLUMN metadata_digest TEXT;
ALTER TABLE oauth2_clients ADD COLUMN application_type TEXT;
ALTER TABLE oauth2_clients ADD COLUMN response_types TEXT NOT NULL DEFAULT '[]';
ALTER TABLE oauth2_clients ADD COLUMN logo_uri TEXT;
ALTER TABLE oauth2_clients ADD COLUMN policy_uri TEXT;
ALTER TABLE oauth2_clients ADD COLUMN tos_uri TEXT;
ALTER TABLE oauth2_clients ADD COLUMN contacts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE oauth2_clients ADD COLUMN token_endpoint_auth_signing_alg TEXT;
ALTER TABLE oauth2_clients ADD COLUMN id_token_signed_response_alg TEXT;
ALTER TABLE oauth2_clients ADD COLUMN userinfo_signed_response_alg TEXT;
ALTER TABLE oauth2_clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE oauth2_clients ADD COLUMN localized TEXT NOT NULL DEFAULT '{}';

-- Secret-less clients registering the same metadata again get the existing client.
CREATE UNIQUE INDEX oauth2_clients_metadata_digest_unique ON oauth2_clients (metadata_digest);
