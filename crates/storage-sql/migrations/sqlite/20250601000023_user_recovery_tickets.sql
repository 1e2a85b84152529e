-- Password recovery tickets: the secret of a link sent to one of the user's addresses, usable
-- once (consumed_at) before expires_at. The ticket is stored only as its SHA-256 (hex).
CREATE TABLE user_recovery_tickets (
    user_recovery_ticket_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    ticket_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    consumed_at TEXT,
    CONSTRAINT user_recovery_tickets_ticket_hash_unique UNIQUE (ticket_hash)
) STRICT;

CREATE INDEX user_recovery_tickets_user_id_idx ON user_recovery_tickets (user_id);
