#!/usr/bin/env python3
"""Password logins against a running server, standard library only (used by bench/logins.sh).

  login_client.py sequential BASE PASSWORD USER...
      One login per USER, one after the other: GET /login (csrf cookie and field), then
      POST /login, timing only the POST. Prints the status counts and the median, min and
      max of the POST times in ms, and `median_ms=<n>` on the last line.

  login_client.py compare BASE PASSWORD VERIFY_USER UPGRADE_USER...
      Rounds of four logins, one after the other, so that all four kinds see the same
      background load: an unknown username (no password check, 401), VERIFY_USER with a wrong
      password (one verification, 401), VERIFY_USER (one verification and a new browser
      session, 303), then the next UPGRADE_USER (hash of an older scheme: one verification,
      one hash of the current scheme and the same browser session, 303). Timing only the
      POSTs, prints the median of each kind and the derived times: one verification ≈ wrong −
      unknown and one hash ≈ upgrade − verify, so that each difference is hashing work alone
      (the session written on success is in both terms of the second).

  login_client.py storm BASE PASSWORD USER CONCURRENCY SECONDS PID
      Waves of CONCURRENCY simultaneous logins of USER for SECONDS: each wave, CONCURRENCY
      threads fetch the form, meet at a barrier and POST at once; the next wave starts when
      all have answered. Meanwhile VmRSS of PID is sampled every 20 ms. Prints the statuses
      (with how many 503 carried Retry-After), the waves, and the peak resident memory.

  login_client.py flows BASE PASSWORD USER CLIENT_ID CLIENT_SECRET REDIRECT_URI CONCURRENCY SECONDS
      Complete authorization code flows, CONCURRENCY at a time for SECONDS, each in a fresh
      cookie jar as a new browser would: GET /authorize (PKCE S256) -> sign-in form -> POST
      /login -> the consent page when asked (Allow) -> the code at REDIRECT_URI -> POST
      /oauth2/token (client_secret_post). Prints the flows completed per second, the median
      and p99 of a whole flow, and the failures by step.
"""

import base64
import hashlib
import http.client
import json
import secrets
import re
import statistics
import sys
import threading
import time
import urllib.parse

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def connect(base):
    url = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=60)


def fetch_form(conn):
    """GET /login: the cookies to send back and the csrf field."""
    conn.request("GET", "/login")
    response = conn.getresponse()
    body = response.read().decode()
    cookies = [
        value.split(";", 1)[0]
        for name, value in response.getheaders()
        if name.lower() == "set-cookie"
    ]
    match = CSRF_FIELD.search(body)
    if response.status != 200 or not match:
        raise RuntimeError(f"GET /login answered {response.status} without a csrf field")
    return "; ".join(cookies), match.group(1)


def post_login(conn, cookies, csrf, user, password):
    """POST /login: (status, Retry-After or None, seconds)."""
    body = urllib.parse.urlencode({"csrf": csrf, "username": user, "password": password})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies}
    start = time.perf_counter()
    conn.request("POST", "/login", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    return response.status, response.getheader("Retry-After"), elapsed


def sequential(base, password, users):
    statuses = {}
    times = []
    conn = connect(base)
    for user in users:
        cookies, csrf = fetch_form(conn)
        status, _, elapsed = post_login(conn, cookies, csrf, user, password)
        statuses[status] = statuses.get(status, 0) + 1
        times.append(elapsed * 1000)
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"POST /login ms: median {statistics.median(times):.2f}, "
          f"min {min(times):.2f}, max {max(times):.2f}")
    print(f"median_ms={statistics.median(times):.2f}")


def compare(base, password, verify_user, upgrade_users):
    conn = connect(base)
    kinds = {"unknown": [], "wrong": [], "verify": [], "upgrade": []}
    statuses = {kind: {} for kind in kinds}
    for upgrade_user in upgrade_users:
        for kind, user, attempt in (("unknown", "nobody", password),
                                    ("wrong", verify_user, password + " but wrong"),
                                    ("verify", verify_user, password),
                                    ("upgrade", upgrade_user, password)):
            cookies, csrf = fetch_form(conn)
            status, _, elapsed = post_login(conn, cookies, csrf, user, attempt)
            statuses[kind][status] = statuses[kind].get(status, 0) + 1
            kinds[kind].append(elapsed * 1000)
    medians = {kind: statistics.median(times) for kind, times in kinds.items()}
    for kind, times in kinds.items():
        print(f"{kind:8} statuses {statuses[kind]}: POST /login ms median {medians[kind]:.2f}, "
              f"min {min(times):.2f}, max {max(times):.2f}")
    hash_ms = medians["upgrade"] - medians["verify"]
    verification_ms = medians["wrong"] - medians["unknown"]
    print(f"one hash ≈ upgrade − verify = {hash_ms:.2f} ms; one verification ≈ wrong − unknown"
          f" = {verification_ms:.2f} ms; ratio verification/hash = "
          f"{verification_ms / hash_ms:.2f} (target ≤ 1.15)")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def storm(base, password, user, concurrency, seconds, pid):
    peak = [rss_kib(pid)]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()

    results = []
    lock = threading.Lock()
    waves = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        barrier = threading.Barrier(concurrency)

        def one():
            conn = connect(base)
            try:
                cookies, csrf = fetch_form(conn)
                barrier.wait()
                result = post_login(conn, cookies, csrf, user, password)
            except Exception as error:  # noqa: BLE001 - a benchmark counts failures
                result = (f"error: {error}", None, 0.0)
            finally:
                conn.close()
            with lock:
                results.append(result)

        threads = [threading.Thread(target=one) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        waves += 1

    stop.set()
    sampler.join()
    ok = sum(1 for status, _, _ in results if status in (200, 302, 303))
    busy = [retry for status, retry, _ in results if status == 503]
    other = {}
    for status, _, _ in results:
        if status not in (200, 302, 303, 503):
            other[status] = other.get(status, 0) + 1
    ok_times = sorted(t * 1000 for status, _, t in results if status in (200, 302, 303))
    busy_times = sorted(t * 1000 for status, _, t in results if status == 503)
    print(f"waves of {concurrency} concurrent logins: {waves} ({len(results)} logins)")
    print(f"signed in (200/303): {ok}; refused 503: {len(busy)} "
          f"(with Retry-After: {sum(1 for r in busy if r is not None)}); other: {other or 0}")
    if ok_times:
        print(f"  signed-in POST ms: median {statistics.median(ok_times):.1f}, max {ok_times[-1]:.1f}")
    if busy_times:
        print(f"  503 POST ms: median {statistics.median(busy_times):.1f}, max {busy_times[-1]:.1f}")
    print(f"peak_rss_kib={peak[0]}")


class Jar:
    """The cookies of one browser, sent back on every request."""

    def __init__(self):
        self.cookies = {}

    def take(self, response):
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if val == "" or "max-age=0" in value.lower():
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = val

    def header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def one_flow(base, password, user, client_id, client_secret, redirect_uri, tokens=None):
    """One whole code flow; returns None on success, or the step that failed. The token
    response is appended to `tokens` when given."""
    conn = connect(base)
    jar = Jar()

    def request(method, target, form=None):
        headers = {"Cookie": jar.header()}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        jar.take(response)
        return response.status, response.getheader("Location"), text

    try:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urllib.parse.urlencode({
            "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
            "scope": "openid urn:matrix:client:api:*", "state": secrets.token_hex(8),
            "code_challenge": challenge, "code_challenge_method": "S256",
        })
        status, location, _ = request("GET", f"/authorize?{query}")
        if status != 303 or not location:
            return f"authorize {status}"
        login = urllib.parse.urlsplit(urllib.parse.urljoin(base, location))
        login_target = login.path + (f"?{login.query}" if login.query else "")
        status, _, page = request("GET", login_target)
        match = CSRF_FIELD.search(page)
        if status != 200 or not match:
            return f"login form {status}"
        status, location, _ = request("POST", login_target, {
            "csrf": match.group(1), "username": user, "password": password})
        for _ in range(5):
            if status != 303 or not location:
                return f"after login {status}"
            if location.startswith(redirect_uri):
                break
            target = urllib.parse.urlsplit(urllib.parse.urljoin(base, location))
            target = target.path + (f"?{target.query}" if target.query else "")
            status, location, page = request("GET", target)
            match = CSRF_FIELD.search(page)
            if status == 200 and match:
                status, location, _ = request("POST", target, {
                    "csrf": match.group(1), "action": "allow"})
        else:
            return "too many redirects"
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code")
        if not code:
            return "no code"
        status, _, body = request("POST", "/oauth2/token", {
            "grant_type": "authorization_code", "code": code[0], "redirect_uri": redirect_uri,
            "code_verifier": verifier, "client_id": client_id, "client_secret": client_secret})
        if status != 200 or not json.loads(body).get("access_token"):
            return f"token {status}"
        if tokens is not None:
            tokens.append(json.loads(body))
        return None
    except Exception as error:  # noqa: BLE001 - a benchmark counts failures
        return f"error: {error}"
    finally:
        conn.close()


def flows(base, password, user, client_id, client_secret, redirect_uri, concurrency, seconds):
    times = []
    failures = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            start = time.perf_counter()
            failed = one_flow(base, password, user, client_id, client_secret, redirect_uri)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                if failed is None:
                    times.append(elapsed)
                else:
                    failures[failed] = failures.get(failed, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    times.sort()
    print(f"complete code flows: {len(times)} in {wall:.1f} s = {len(times) / wall:.1f}/s "
          f"({concurrency} at a time); failed: {failures or 0}")
    if times:
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"  one flow ms: median {statistics.median(times):.1f}, p99 {p99:.1f}, "
              f"max {times[-1]:.1f}")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "sequential":
        sequential(args[0], args[1], args[2:])
    elif command == "compare":
        compare(args[0], args[1], args[2], args[3:])
    elif command == "storm":
        storm(args[0], args[1], args[2], int(args[3]), float(args[4]), int(args[5]))
    elif command == "flows":
        flows(args[0], args[1], args[2], args[3], args[4], args[5], int(args[6]),
              float(args[7]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
