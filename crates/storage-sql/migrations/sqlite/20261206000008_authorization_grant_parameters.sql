-- The parameters of the authorization request, as the client sent them: the templates of an
-- upstream provider's `additional_authorization_parameters` read them as `params` when the
-- sign-in continues that request (as MAS does).
ALTER TABLE oauth2_authorization_grants ADD COLUMN raw_parameters TEXT;
