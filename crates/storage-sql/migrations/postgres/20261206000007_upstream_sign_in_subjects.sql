-- The ID token's `sub` and `sid` of each upstream sign-in, in columns of their own, so that a
-- back-channel logout from the provider finds the browser sessions its sign-ins began (or
-- re-authenticated) by index.
ALTER TABLE upstream_oauth_authorization_sessions ADD COLUMN id_token_sub TEXT;
ALTER TABLE upstream_oauth_authorization_sessions ADD COLUMN id_token_sid TEXT;

UPDATE upstream_oauth_authorization_sessions
SET id_token_sub = id_token_claims ->> 'sub', id_token_sid = id_token_claims ->> 'sid'
WHERE id_token_claims IS NOT NULL;

CREATE INDEX upstream_oauth_authorization_sessions_sub_idx
    ON upstream_oauth_authorization_sessions (upstream_oauth_provider_id, id_token_sub);
CREATE INDEX upstream_oauth_authorization_sessions_sid_idx
    ON upstream_oauth_authorization_sessions (upstream_oauth_provider_id, id_token_sid);
