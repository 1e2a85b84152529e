#!/usr/bin/env python3
"""The load and the checks of bench/faults.sh, standard library only.

  fault_load.py kill A B PID SECONDS CLIENT_ID CLIENT_SECRET HS_SECRET PASSWORD OUT
      Eight clients ask A and B for tokens (client credentials) and introspect each through
      the other server; four others keep refreshing a token of their own (authorization code
      flows of `alice` made first, at B), at A and B in turn. Half-way through, process PID
      (server A) gets SIGKILL. A refresh left without an answer is sent again to B, as a
      client that lost the answer would: it must succeed. Afterwards, through B: every token
      handed out (client credentials and sign-ins) is active, every chain's last access token is active and its last refresh
      token refreshes once more. The handed-out tokens are written to OUT.

  fault_load.py active BASE HS_SECRET FILE
      Introspects every token of FILE through BASE: all must be active.

  fault_load.py outage A B SECONDS CLIENT_ID CLIENT_SECRET HS_SECRET STOP START
      Eight clients ask A and B for tokens and introspect them. After a third of the time the
      shell command STOP runs (PostgreSQL stops), after two thirds START (it starts again).
      While it is down every request must be answered (503, never 500), and both servers
      must serve again after START without a restart; tokens handed out before the stop must
      be active afterwards.

  fault_load.py disk BASE SECONDS CLIENT_ID CLIENT_SECRET HS_SECRET FILL FREE
      Four clients ask BASE for tokens. After a third of the time the shell command FILL
      fills the disk, after two thirds FREE makes room again. While it is full every request
      must be answered, with a 503; afterwards the server serves again, and every token
      handed out (before, during or after) is active.

Every mode prints its figures and exits 1 when a check fails.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import login_client  # noqa: E402

REDIRECT_URI = "https://bench.invalid/callback"


def post(url, fields, bearer=None, timeout=30):
    """(status, JSON body) of a form POST; raises OSError when no answer came."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode())
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"{}")
        except ValueError:
            return error.code, {"raw": body[:200].decode(errors="replace")}


def client_credentials(base, client_id, client_secret):
    return post(base + "/oauth2/token", {
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": client_secret, "scope": "urn:mas:graphql:*"})


def refresh(base, token, client_id, client_secret):
    return post(base + "/oauth2/token", {
        "grant_type": "refresh_token", "refresh_token": token, "client_id": client_id,
        "client_secret": client_secret})


def active(base, hs_secret, token):
    status, body = post(base + "/oauth2/introspect", {"token": token}, hs_secret)
    return status == 200 and body.get("active") is True


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def get(self, key):
        return self.counts.get(key, 0)


def kill(a, b, pid, seconds, client_id, client_secret, hs_secret, password, out):
    seconds = float(seconds)
    bases = [a, b]
    counts = Counter()
    tokens = []
    lock = threading.Lock()

    chains = []
    for _ in range(4):
        answers = []
        failed = login_client.one_flow(b, password, "alice", client_id, client_secret,
                                       REDIRECT_URI, tokens=answers)
        if failed or not answers[0].get("refresh_token"):
            print(f"could not start a refresh chain: {failed or answers}")
            sys.exit(1)
        chains.append(answers[0])

    deadline = time.monotonic() + seconds

    def tokens_client(index):
        n = 0
        while time.monotonic() < deadline:
            base = bases[(index + n) % 2]
            n += 1
            name = "A" if base == a else "B"
            try:
                status, body = client_credentials(base, client_id, client_secret)
            except OSError:
                counts.add(f"token requests without an answer from {name}")
                continue
            if status != 200:
                counts.add(f"token requests answered {status} by {name}")
                continue
            counts.add("tokens handed out")
            with lock:
                tokens.append(body["access_token"])
            other = bases[n % 2]
            try:
                post(other + "/oauth2/introspect", {"token": body["access_token"]}, hs_secret)
                counts.add("introspections answered")
            except OSError:
                counts.add("introspections without an answer from "
                           + ("A" if other == a else "B"))

    def login_client_thread(index):
        n = 0
        while time.monotonic() < deadline:
            base = bases[(index + n) % 2]
            n += 1
            name = "A" if base == a else "B"
            answers = []
            failed = login_client.one_flow(base, password, "alice", client_id, client_secret,
                                           REDIRECT_URI, tokens=answers)
            if failed:
                counts.add(f"sign-ins (code flows) failed at {name}")
                continue
            counts.add("sign-ins (code flows) completed")
            with lock:
                tokens.append(answers[0]["access_token"])

    def refresh_client(index):
        chain = chains[index]
        n = 0
        while time.monotonic() < deadline:
            base = bases[(index + n) % 2]
            n += 1
            try:
                status, body = refresh(base, chain["refresh_token"], client_id, client_secret)
            except OSError:
                # The answer was lost: the client does not know whether the refresh counted,
                # and sends the same refresh token again, to the server that is left.
                counts.add("refreshes without an answer (sent again to B)")
                status, body = refresh(b, chain["refresh_token"], client_id, client_secret)
                if status != 200:
                    counts.add("refreshes sent again and refused")
                    print(f"refresh sent again refused: {status} {body}")
                    continue
            if status != 200:
                counts.add(f"refreshes answered {status}")
                print(f"refresh refused: {status} {body}")
                continue
            counts.add("refreshes answered")
            chain.update(body)

    threads = [threading.Thread(target=tokens_client, args=(i,)) for i in range(8)]
    threads += [threading.Thread(target=refresh_client, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=login_client_thread, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 2)
    os.kill(int(pid), signal.SIGKILL)
    for thread in threads:
        thread.join()

    inactive = sum(1 for token in tokens if not active(b, hs_secret, token))
    chains_broken = 0
    for chain in chains:
        if not active(b, hs_secret, chain["access_token"]):
            chains_broken += 1
            continue
        status, _ = refresh(b, chain["refresh_token"], client_id, client_secret)
        if status != 200:
            chains_broken += 1
    with open(out, "w") as f:
        f.write("\n".join(tokens))

    for key in sorted(counts.counts):
        print(f"{key}: {counts.get(key)}")
    print(f"handed-out tokens inactive at B afterwards: {inactive}")
    print(f"refresh chains whose last answer does not work at B afterwards: {chains_broken} of 4")
    failed = (inactive or chains_broken
              or any(("from B" in key or "by B" in key or "at B" in key or "refused" in key)
                     and value
                     for key, value in counts.counts.items()))
    sys.exit(1 if failed else 0)


def check_active(base, hs_secret, path):
    tokens = [line for line in open(path).read().splitlines() if line]
    inactive = sum(1 for token in tokens if not active(base, hs_secret, token))
    print(f"{len(tokens)} tokens introspected through {base}: {inactive} inactive")
    sys.exit(1 if inactive else 0)


def phases(seconds, down, up):
    """Runs `down` after a third of `seconds` and `up` after two thirds, in a thread; returns
    the thread and a dict that gets the monotonic instants at which `down` had finished
    ("down"), `up` was started ("up_asked") and had finished ("up")."""
    instants = {}

    def run():
        time.sleep(seconds / 3)
        subprocess.run(down, shell=True, check=True)
        instants["down"] = time.monotonic()
        time.sleep(seconds / 3)
        instants["up_asked"] = time.monotonic()
        subprocess.run(up, shell=True, check=True)
        instants["up"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, instants


def load(bases, clients, seconds, client_id, client_secret, record):
    """`clients` threads ask `bases` in turn for tokens for `seconds`; each answer goes to
    record(base, started, elapsed, status, body) (status None: no answer)."""
    deadline = time.monotonic() + seconds

    def client(index):
        n = 0
        while time.monotonic() < deadline:
            base = bases[(index + n) % len(bases)]
            n += 1
            started = time.monotonic()
            try:
                status, body = client_credentials(base, client_id, client_secret)
            except OSError as error:
                status, body = None, {"error": str(error)}
            record(base, started, time.monotonic() - started, status, body)
            if status != 200:
                time.sleep(0.01)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def under_load(bases, clients, seconds, client_id, client_secret, down, up):
    """Token load on `bases` for `seconds`, with `down` run after a third and `up` after two
    thirds (see phases). Returns every answer (base, started, elapsed, status, body), the
    answers before `down`, between `down` and `up`, and after `up`, the count of each answer
    (status and error) in between, and the instants."""
    records = []
    lock = threading.Lock()

    def record(base, started, elapsed, status, body):
        with lock:
            records.append((base, started, elapsed, status, body))

    phase_thread, instants = phases(seconds, down, up)
    load(bases, clients, seconds, client_id, client_secret, record)
    phase_thread.join()
    before = [r for r in records if r[1] + r[2] < instants["down"]]
    during = [r for r in records
              if instants["down"] <= r[1] and r[1] + r[2] < instants["up_asked"]]
    after = [r for r in records if r[1] >= instants["up"]]
    statuses = {}
    for _, _, _, status, body in during:
        key = f"{status} {body.get('error', '')}".strip()
        statuses[key] = statuses.get(key, 0) + 1
    return records, before, during, after, statuses, instants


def outage(a, b, seconds, client_id, client_secret, hs_secret, stop, start):
    _, before, during, after, statuses, instants = under_load(
        [a, b], 8, float(seconds), client_id, client_secret, stop, start)
    down, up_asked, up = instants["down"], instants["up_asked"], instants["up"]
    slowest = max((r[2] for r in during), default=0)
    recovered = {}
    for base in (a, b):
        firsts = [r[1] + r[2] for r in after if r[0] == base and r[3] == 200]
        recovered[base] = (min(firsts) - up) if firsts else None
    tokens_before = [r[4]["access_token"] for r in before if r[3] == 200]
    inactive = sum(1 for token in tokens_before if not active(b, hs_secret, token))

    print(f"before the stop: {len(before)} requests, "
          f"{sum(1 for r in before if r[3] == 200)} answered 200")
    print(f"while PostgreSQL was down ({up_asked - down:.1f} s): {len(during)} requests; "
          f"answers: {statuses}; slowest answer: {slowest * 1000:.0f} ms")
    for base, name in ((a, "A"), (b, "B")):
        delay = recovered[base]
        print(f"server {name}: first 200 "
              + (f"{delay * 1000:.0f} ms after PostgreSQL was up again" if delay is not None
                 else "never"))
    print(f"tokens handed out before the stop: {len(tokens_before)}, inactive afterwards: "
          f"{inactive}")
    bad = [key for key in statuses if not key.startswith("503")]
    sys.exit(1 if bad or inactive or None in recovered.values() or not during else 0)


def disk(base, seconds, client_id, client_secret, hs_secret, fill, free):
    records, _, during, after, statuses, _ = under_load(
        [base], 4, float(seconds), client_id, client_secret, fill, free)
    handed_out = [r[4]["access_token"] for r in records if r[3] == 200]
    inactive = sum(1 for token in handed_out if not active(base, hs_secret, token))
    refused = sum(v for k, v in statuses.items() if k.startswith("503"))
    print(f"while the disk was full: {len(during)} requests; answers: {statuses}")
    print(f"after making room: {len(after)} requests, "
          f"{sum(1 for r in after if r[3] == 200)} answered 200")
    print(f"tokens handed out in all: {len(handed_out)}, inactive afterwards: {inactive}")
    bad = [key for key in statuses if not (key.startswith("503") or key.startswith("200"))]
    recovered = any(r[3] == 200 for r in after)
    sys.exit(1 if bad or inactive or not recovered or not refused else 0)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    {"kill": kill, "active": check_active, "outage": outage, "disk": disk}[mode](*args)


if __name__ == "__main__":
    main()
