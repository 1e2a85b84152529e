-- The background job queue.
CREATE TABLE queue_jobs (
    queue_job_id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('available', 'running', 'completed', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 0),
    run_at TEXT NOT NULL,
    locked_by TEXT,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
) STRICT;

-- The claim looks for available jobs that are due...
CREATE INDEX queue_jobs_status_run_at_idx ON queue_jobs (status, run_at);
-- ...and for running jobs whose lease has expired.
CREATE INDEX queue_jobs_status_locked_until_idx ON queue_jobs (status, locked_until);
