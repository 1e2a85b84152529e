-- The workers sharing the job queue, with their heartbeats.
CREATE TABLE queue_workers (
    worker_id TEXT NOT NULL PRIMARY KEY,
    registered_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    stopped_at TIMESTAMPTZ
);

-- The one worker that queues the recurring jobs and hands over lost workers' jobs, while its
-- lease lasts. Unlogged: after a crash of PostgreSQL it is empty, and a worker leads again.
CREATE UNLOGGED TABLE queue_leader (
    singleton INTEGER NOT NULL PRIMARY KEY CHECK (singleton = 1),
    worker_id TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- The slot each recurring job was last queued for.
CREATE TABLE queue_schedules (
    schedule_name TEXT NOT NULL PRIMARY KEY,
    last_scheduled_at TIMESTAMPTZ NOT NULL
);

-- Workers in other processes wake up as soon as a job is queued, instead of at their next look.
CREATE FUNCTION queue_jobs_notify() RETURNS TRIGGER AS $$
BEGIN
    PERFORM pg_notify('queue_available', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER queue_jobs_notify AFTER INSERT ON queue_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION queue_jobs_notify();
