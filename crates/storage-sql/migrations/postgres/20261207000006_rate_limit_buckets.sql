-- The rate limits' buckets, shared by every process: the instant each bucket would be empty
-- again. A bucket whose instant has passed is full, as if absent, and is deleted.
CREATE TABLE rate_limit_buckets (
    limiter TEXT NOT NULL,
    bucket_key TEXT NOT NULL,
    empty_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (limiter, bucket_key)
);

CREATE INDEX rate_limit_buckets_empty_at_idx ON rate_limit_buckets (empty_at);
