-- The workers sharing the job queue, with their heartbeats.
CREATE TABLE queue_workers (
    worker_id TEXT NOT NULL PRIMARY KEY,
    registered_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    stopped_at TEXT
) STRICT;

-- The one worker that queues the recurring jobs and hands over lost workers' jobs, while its
-- lease lasts.
CREATE TABLE queue_leader (
    singleton INTEGER NOT NULL PRIMARY KEY CHECK (singleton = 1),
    worker_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

-- The slot each recurring job was last queued for.
CREATE TABLE queue_schedules (
    schedule_name TEXT NOT NULL PRIMARY KEY,
    last_scheduled_at TEXT NOT NULL
) STRICT;
