-- The Admin API filters users by whether they have a standing session
-- (`filter[has-active-compat-session]`, `filter[has-active-oauth2-session]`): the standing
-- sessions of a user, found without reading the finished ones.
CREATE INDEX compat_sessions_active_user_id_idx ON compat_sessions (user_id)
    WHERE finished_at IS NULL;
CREATE INDEX oauth2_sessions_active_user_id_idx ON oauth2_sessions (user_id)
    WHERE finished_at IS NULL;
