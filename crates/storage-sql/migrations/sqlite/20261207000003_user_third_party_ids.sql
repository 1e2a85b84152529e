-- Third-party ids other than email addresses (phone numbers, `msisdn`) that users had on
-- Synapse: nobody signs in or recovers an account with them here, but `syn2mas` keeps them, as
-- MAS does, rather than dropping what users gave.
CREATE TABLE user_third_party_ids (
    user_third_party_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    medium TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT user_third_party_ids_user_medium_address_unique UNIQUE (user_id, medium, address)
) STRICT;
