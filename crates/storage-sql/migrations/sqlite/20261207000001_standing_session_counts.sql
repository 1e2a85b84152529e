-- How many standing (not finished) sessions each user has, of each kind the Admin API filters
-- by (`filter[has-active-compat-session]`, `filter[has-active-oauth2-session]`), kept by the
-- database itself on every insert, finish and delete of a session. A count of the users with
-- a standing session then reads a partial index of users instead of grouping every standing
-- session by user (docs/performance.md).
ALTER TABLE users ADD COLUMN standing_compat_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN standing_oauth2_sessions INTEGER NOT NULL DEFAULT 0;

UPDATE users SET standing_compat_sessions = (
    SELECT COUNT(*) FROM compat_sessions
    WHERE compat_sessions.user_id = users.user_id AND finished_at IS NULL
);
UPDATE users SET standing_oauth2_sessions = (
    SELECT COUNT(*) FROM oauth2_sessions
    WHERE oauth2_sessions.user_id = users.user_id AND finished_at IS NULL
);

CREATE INDEX users_standing_compat_sessions_idx ON users (user_id)
    WHERE standing_compat_sessions > 0;
CREATE INDEX users_standing_oauth2_sessions_idx ON users (user_id)
    WHERE standing_oauth2_sessions > 0;

-- A session that stops standing (finished or deleted) takes one off its user's count; one that
-- starts standing (inserted unfinished, or moved to another user) adds one. Sessions without
-- a user (client credentials) match no row.
CREATE TRIGGER compat_sessions_standing_insert AFTER INSERT ON compat_sessions
    WHEN NEW.finished_at IS NULL
BEGIN
    UPDATE users SET standing_compat_sessions = standing_compat_sessions + 1
    WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER compat_sessions_standing_update AFTER UPDATE OF finished_at, user_id ON compat_sessions
    WHEN (OLD.finished_at IS NULL OR NEW.finished_at IS NULL)
        AND (OLD.finished_at IS NOT NEW.finished_at OR OLD.user_id IS NOT NEW.user_id)
BEGIN
    UPDATE users SET standing_compat_sessions = standing_compat_sessions - 1
    WHERE OLD.finished_at IS NULL AND user_id = OLD.user_id;
    UPDATE users SET standing_compat_sessions = standing_compat_sessions + 1
    WHERE NEW.finished_at IS NULL AND user_id = NEW.user_id;
END;
CREATE TRIGGER compat_sessions_standing_delete AFTER DELETE ON compat_sessions
    WHEN OLD.finished_at IS NULL
BEGIN
    UPDATE users SET standing_compat_sessions = standing_compat_sessions - 1
    WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER oauth2_sessions_standing_insert AFTER INSERT ON oauth2_sessions
    WHEN NEW.finished_at IS NULL
BEGIN
    UPDATE users SET standing_oauth2_sessions = standing_oauth2_sessions + 1
    WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER oauth2_sessions_standing_update AFTER UPDATE OF finished_at, user_id ON oauth2_sessions
    WHEN (OLD.finished_at IS NULL OR NEW.finished_at IS NULL)
        AND (OLD.finished_at IS NOT NEW.finished_at OR OLD.user_id IS NOT NEW.user_id)
BEGIN
    UPDATE users SET standing_oauth2_sessions = standing_oauth2_sessions - 1
    WHERE OLD.finished_at IS NULL AND user_id = OLD.user_id;
    UPDATE users SET standing_oauth2_sessions = standing_oauth2_sessions + 1
    WHERE NEW.finished_at IS NULL AND user_id = NEW.user_id;
END;
CREATE TRIGGER oauth2_sessions_standing_delete AFTER DELETE ON oauth2_sessions
    WHEN OLD.finished_at IS NULL
BEGIN
    UPDATE users SET standing_oauth2_sessions = standing_oauth2_sessions - 1
    WHERE user_id = OLD.user_id;
END;
