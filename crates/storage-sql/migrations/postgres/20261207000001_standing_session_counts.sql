-- How many standing (not finished) sessions each user has, of each kind the Admin API filters
-- by (`filter[has-active-compat-session]`, `filter[has-active-oauth2-session]`), kept by the
-- database itself on every insert, finish and delete of a session. A count of the users with
-- a standing session then reads a partial index of users instead of grouping every standing
-- session by user (3 ms instead of 6 ms over 100,000 users; docs/performance.md).
ALTER TABLE users ADD COLUMN standing_compat_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN standing_oauth2_sessions INTEGER NOT NULL DEFAULT 0;

UPDATE users SET standing_compat_sessions = standing.sessions
FROM (SELECT user_id, COUNT(*) AS sessions FROM compat_sessions
      WHERE finished_at IS NULL GROUP BY user_id) AS standing
WHERE standing.user_id = users.user_id;

UPDATE users SET standing_oauth2_sessions = standing.sessions
FROM (SELECT user_id, COUNT(*) AS sessions FROM oauth2_sessions
      WHERE finished_at IS NULL AND user_id IS NOT NULL GROUP BY user_id) AS standing
WHERE standing.user_id = users.user_id;

CREATE INDEX users_standing_compat_sessions_idx ON users (user_id)
    WHERE standing_compat_sessions > 0;
CREATE INDEX users_standing_oauth2_sessions_idx ON users (user_id)
    WHERE standing_oauth2_sessions > 0;

-- A session that stops standing (finished or deleted) takes one off its user's count; one that
-- starts standing (inserted unfinished, or moved to another user) adds one. Sessions without
-- a user (client credentials) match no row.
CREATE FUNCTION count_standing_compat_sessions() RETURNS TRIGGER AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.finished_at IS NULL THEN
        UPDATE users SET standing_compat_sessions = standing_compat_sessions - 1
        WHERE user_id = OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.finished_at IS NULL THEN
        UPDATE users SET standing_compat_sessions = standing_compat_sessions + 1
        WHERE user_id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION count_standing_oauth2_sessions() RETURNS TRIGGER AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.finished_at IS NULL THEN
        UPDATE users SET standing_oauth2_sessions = standing_oauth2_sessions - 1
        WHERE user_id = OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.finished_at IS NULL THEN
        UPDATE users SET standing_oauth2_sessions = standing_oauth2_sessions + 1
        WHERE user_id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Only the changes that matter fire: an update of another column (last activity, say) does not.
CREATE TRIGGER compat_sessions_standing_insert AFTER INSERT ON compat_sessions
    FOR EACH ROW WHEN (NEW.finished_at IS NULL) EXECUTE FUNCTION count_standing_compat_sessions();
CREATE TRIGGER compat_sessions_standing_update AFTER UPDATE OF finished_at, user_id ON compat_sessions
    FOR EACH ROW WHEN ((OLD.finished_at IS NULL OR NEW.finished_at IS NULL)
        AND (OLD.finished_at IS DISTINCT FROM NEW.finished_at OR OLD.user_id IS DISTINCT FROM NEW.user_id))
    EXECUTE FUNCTION count_standing_compat_sessions();
CREATE TRIGGER compat_sessions_standing_delete AFTER DELETE ON compat_sessions
    FOR EACH ROW WHEN (OLD.finished_at IS NULL) EXECUTE FUNCTION count_standing_compat_sessions();

CREATE TRIGGER oauth2_sessions_standing_insert AFTER INSERT ON oauth2_sessions
    FOR EACH ROW WHEN (NEW.finished_at IS NULL) EXECUTE FUNCTION count_standing_oauth2_sessions();
CREATE TRIGGER oauth2_sessions_standing_update AFTER UPDATE OF finished_at, user_id ON oauth2_sessions
    FOR EACH ROW WHEN ((OLD.finished_at IS NULL OR NEW.finished_at IS NULL)
        AND (OLD.finished_at IS DISTINCT FROM NEW.finished_at OR OLD.user_id IS DISTINCT FROM NEW.user_id))
    EXECUTE FUNCTION count_standing_oauth2_sessions();
CREATE TRIGGER oauth2_sessions_standing_delete AFTER DELETE ON oauth2_sessions
    FOR EACH ROW WHEN (OLD.finished_at IS NULL) EXECUTE FUNCTION count_standing_oauth2_sessions();
