-- The rate limits' buckets, when several processes share them: the instant each bucket would
-- be empty again. A bucket whose instant has passed is full, as if absent, and is deleted.
CREATE TABLE rate_limit_buckets (
    limiter TEXT NOT NULL,
    bucket_key TEXT NOT NULL,
    empty_at TEXT NOT NULL,
    PRIMARY KEY (limiter, bucket_key)
) STRICT;

CREATE INDEX rate_limit_buckets_empty_at_idx ON rate_limit_buckets (empty_at);
