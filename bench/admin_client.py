"""Latency of the Admin API's user lists, one request at a time, for bench/admin_lists.sh.

    python3 bench/admin_client.py BASE_URL TOKEN

Scenarios (each request timed from sending to the last byte, on one kept-alive connection):
every page of 100 users following `links.next` to the end, without and with filters;
`count=only`, without and with filters; pages of 100 from the end following `links.prev`.
Prints p50, p99 and max per scenario, in milliseconds.
"""
import http.client
import json
import sys
import time
import urllib.parse

base = urllib.parse.urlsplit(sys.argv[1])
token = sys.argv[2]
connection = http.client.HTTPConnection(base.hostname, base.port)


def get(path):
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status} {body[:300]!r}")
    return json.loads(body), elapsed


def walk(first, link):
    times, rows = [], 0
    path = first
    while path:
        answer, elapsed = get(path)
        times.append(elapsed)
        rows += len(answer.get("data") or [])
        path = answer["links"].get(link)
    return times, rows


def report(name, times, rows=None):
    times = sorted(times)
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    extra = f", {rows} rows" if rows is not None else ""
    print(f"{name:<58} n={len(times):>5}{extra:<14} p50 {p(0.5):6.2f} ms  p99 {p(0.99):6.2f} ms  max {times[-1]:6.2f} ms")


# Warm the connections and caches; not counted.
walk("/api/admin/v1/users?page[first]=100&count=false", "next")

for name, query in [
    ("all users, pages of 100", "page[first]=100"),
    ("all users, pages of 100, count=false", "page[first]=100&count=false"),
    ("active users", "page[first]=100&filter[status]=active"),
    ("locked users", "page[first]=100&filter[status]=locked"),
    ("admins", "page[first]=100&filter[admin]=true"),
    ("users with an active compat session", "page[first]=100&filter[has-active-compat-session]=true"),
    ("username search 'user00'", "page[first]=100&filter[search]=user00"),
]:
    times, rows = walk(f"/api/admin/v1/users?{query}", "next")
    report(name, times, rows)

times, rows = walk("/api/admin/v1/users?page[last]=100&count=false", "prev")
report("all users backwards, pages of 100", times, rows)

for name, query in [
    ("count=only", "count=only"),
    ("count=only, active", "count=only&filter[status]=active"),
    ("count=only, active compat session", "count=only&filter[has-active-compat-session]=true"),
    ("count=only, search", "count=only&filter[search]=user00"),
]:
    times = [get(f"/api/admin/v1/users?{query}")[1] for _ in range(200)]
    report(name, times)
