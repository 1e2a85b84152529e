-- The terms of service each user accepted, by URL, with when; accepting the same terms again
-- keeps the first instant.
CREATE TABLE user_terms (
    user_terms_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    terms_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT user_terms_user_id_terms_url_unique UNIQUE (user_id, terms_url)
) STRICT;
