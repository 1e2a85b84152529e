"""Fills the database of a Synapse that ran once (so its schema exists) for bench/syn2mas.sh:
100,000 users (1% admins, 1% deactivated), an email address each, two devices each with an
access token each (200,000 devices and tokens), and an upstream identity for every tenth user.

    python3 bench/seed_synapse.py sqlite PATH
    python3 bench/seed_synapse.py postgres DATABASE

Every user has the same bcrypt hash (cost 4): hashes are copied as they are, never checked.
"""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_admin import copy  # noqa: E402  (psql's COPY of rows, shared with the Admin API's seed)

USERS = int(os.environ.get("SEED_USERS", "100000"))
SERVER = os.environ.get("SEED_SERVER_NAME", "localhost")
HASH = "$2b$04$0123456789abcdefghijkuJ9nJxT6mC3p9kFh7bFq8t4tZ0p1bG3e"
START = 1_700_000_000


def rows():
    users, threepids, external, devices, tokens = [], [], [], [], []
    token_id = 1
    for i in range(USERS):
        name = f"@user{i:06d}:{SERVER}"
        users.append((name, None if i % 100 == 13 else HASH, START + i,
                      1 if i % 100 == 42 else 0, 1 if i % 100 == 13 else 0))
        threepids.append((name, "email", f"user{i:06d}@example.org", (START + i) * 1000,
                          (START + i) * 1000))
        if i % 10 == 3:
            external.append(("oidc-upstream", f"subject-{i}", name))
        for d in range(2):
            device = f"DEV{i:06d}{d}"
            devices.append((name, device, f"device {d}", (START + i) * 1000))
            tokens.append((token_id, name, device, f"syt_{i:06d}_{d}_benchmarktoken{token_id}"))
            token_id += 1
    return users, threepids, external, devices, tokens


def seed_sqlite(path):
    users, threepids, external, devices, tokens = rows()
    db = sqlite3.connect(path)
    with db:
        db.executemany("INSERT INTO users (name, password_hash, creation_ts, admin, deactivated, "
                       "is_guest) VALUES (?, ?, ?, ?, ?, 0)", users)
        db.executemany("INSERT INTO user_threepids (user_id, medium, address, validated_at, "
                       "added_at) VALUES (?, ?, ?, ?, ?)", threepids)
        db.executemany("INSERT INTO user_external_ids (auth_provider, external_id, user_id) "
                       "VALUES (?, ?, ?)", external)
        db.executemany("INSERT INTO devices (user_id, device_id, display_name, last_seen, hidden) "
                       "VALUES (?, ?, ?, ?, 0)", devices)
        db.executemany("INSERT INTO access_tokens (id, user_id, device_id, token) "
                       "VALUES (?, ?, ?, ?)", tokens)
    db.close()


def seed_postgres(database):
    users, threepids, external, devices, tokens = rows()
    copy(database, "users", ["name", "password_hash", "creation_ts", "admin", "deactivated"], users)
    copy(database, "user_threepids", ["user_id", "medium", "address", "validated_at", "added_at"],
         threepids)
    copy(database, "user_external_ids", ["auth_provider", "external_id", "user_id"], external)
    copy(database, "devices", ["user_id", "device_id", "display_name", "last_seen"], devices)
    copy(database, "access_tokens", ["id", "user_id", "device_id", "token"], tokens)


if __name__ == "__main__":
    backend, target = sys.argv[1], sys.argv[2]
    if backend == "sqlite":
        seed_sqlite(target)
    else:
        seed_postgres(target)
    print(f"seeded {USERS} users, {USERS} addresses, {USERS * 2} devices and access tokens")
