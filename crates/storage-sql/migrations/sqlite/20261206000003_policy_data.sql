-- Policy data pushed through the Admin API; the newest row is the one in effect, older ones
-- are kept for reading back.
CREATE TABLE policy_data (
    policy_data_id TEXT NOT NULL PRIMARY KEY,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
