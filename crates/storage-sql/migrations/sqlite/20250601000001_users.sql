-- Local accounts. Ids are ULIDs as text; instants are fixed-width RFC 3339 text in UTC, so
-- that text order is time order.
CREATE TABLE users (
    user_id TEXT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    created_at TEXT NOT NULL,
    locked_at TEXT,
    deactivated_at TEXT,
    can_request_admin INTEGER NOT NULL DEFAULT 0 CHECK (can_request_admin IN (0, 1)),
    CONSTRAINT users_username_unique UNIQUE (username)
) STRICT;
