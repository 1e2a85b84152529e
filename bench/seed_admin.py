"""Fills a migrated database for bench/admin_lists.sh: 100,000 users (2% locked, 1% deactivated,
1% admins), one email address each, a browser session each and a compatibility session each
(every other one finished): 200,000 sessions in all.

    python3 bench/seed_admin.py sqlite PATH
    python3 bench/seed_admin.py postgres DATABASE

Rows are written directly (SQLite through the sqlite3 module, PostgreSQL through psql's COPY),
with ULIDs one millisecond apart so that the ids follow creation order, as the server's do.
"""
import datetime
import io
import os
import sqlite3
import subprocess
import sys
import uuid

USERS = int(os.environ.get("SEED_USERS", "100000"))
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def ulid(millis, counter):
    value = (millis << 80) | (counter & ((1 << 80) - 1))
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5)), value


def stamp(at):
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rows():
    users, emails, browsers, compats = [], [], [], []
    base_ms = int(START.timestamp() * 1000)
    for i in range(USERS):
        at = START + datetime.timedelta(milliseconds=i)
        ms = base_ms + i
        user = ulid(ms, 1)
        locked = stamp(at) if i % 50 == 7 else None
        deactivated = stamp(at) if i % 100 == 13 else None
        admin = i % 100 == 42
        users.append((user, f"user{i:06d}", stamp(at), locked, deactivated, admin))
        emails.append((ulid(ms, 2), user, f"user{i:06d}@example.org", stamp(at)))
        browsers.append((ulid(ms, 3), user, stamp(at), None))
        finished = stamp(at) if i % 2 else None
        compats.append((ulid(ms, 4), user, f"DEVICE{i:06d}", stamp(at), finished))
    return users, emails, browsers, compats


def seed_sqlite(path):
    users, emails, browsers, compats = rows()
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO users (user_id, username, created_at, locked_at, deactivated_at, "
            "can_request_admin) VALUES (?, ?, ?, ?, ?, ?)",
            [(u[0][0], u[1], u[2], u[3], u[4], int(u[5])) for u in users],
        )
        db.executemany(
            "INSERT INTO user_emails (user_email_id, user_id, email, normalized_email, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            [(e[0][0], e[1][0], e[2], e[2], e[3]) for e in emails],
        )
        db.executemany(
            "INSERT INTO user_sessions (user_session_id, user_id, created_at, finished_at) "
            "VALUES (?, ?, ?, ?)",
            [(b[0][0], b[1][0], b[2], b[3]) for b in browsers],
        )
        db.executemany(
            "INSERT INTO compat_sessions (compat_session_id, user_id, device_id, created_at, "
            "finished_at) VALUES (?, ?, ?, ?, ?)",
            [(c[0][0], c[1][0], c[2], c[3], c[4]) for c in compats],
        )
    db.execute("ANALYZE")
    db.close()


def copy(database, table, columns, records):
    buffer = io.StringIO()
    for record in records:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in record) + "\n")
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-c",
         f"COPY {table} ({', '.join(columns)}) FROM STDIN"],
        input=buffer.getvalue(), text=True, check=True,
    )


def seed_postgres(database):
    users, emails, browsers, compats = rows()
    as_uuid = lambda pair: uuid.UUID(int=pair[1])
    copy(database, "users",
         ["user_id", "username", "created_at", "locked_at", "deactivated_at", "can_request_admin"],
         [(as_uuid(u[0]), u[1], u[2], u[3], u[4], "t" if u[5] else "f") for u in users])
    copy(database, "user_emails",
         ["user_email_id", "user_id", "email", "normalized_email", "created_at"],
         [(as_uuid(e[0]), as_uuid(e[1]), e[2], e[2], e[3]) for e in emails])
    copy(database, "user_sessions", ["user_session_id", "user_id", "created_at", "finished_at"],
         [(as_uuid(b[0]), as_uuid(b[1]), b[2], b[3]) for b in browsers])
    copy(database, "compat_sessions",
         ["compat_session_id", "user_id", "device_id", "created_at", "finished_at"],
         [(as_uuid(c[0]), as_uuid(c[1]), c[2], c[3], c[4]) for c in compats])
    # The sessions' triggers rewrote the rows of their users: leave the tables as autovacuum
    # leaves a database at rest (visibility map set, statistics taken).
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-c",
                    "VACUUM ANALYZE"], check=True)


if __name__ == "__main__":
    backend, target = sys.argv[1], sys.argv[2]
    if backend == "sqlite":
        seed_sqlite(target)
    else:
        seed_postgres(target)
    print(f"seeded {USERS} users, {USERS} addresses, {2 * USERS} sessions")
