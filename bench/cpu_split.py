"""Where the machine's CPU time went while a command ran, by kind of process.

    python3 bench/cpu_split.py SERVER_PID -- COMMAND [ARGS...]

Runs COMMAND (the load: wrk, or a shell running several), reads the user and system time of
every other process from /proc before and after, and prints, on stderr, the seconds of CPU
each group used: the server (SERVER_PID, its hashing threads apart), PostgreSQL, Synapse
(python), the load (COMMAND and every child it waited for, from its resource usage) and
everything else. A process that started during the run counts from its start; one that ended
during it is not seen. COMMAND's own output goes through unchanged and its exit status is
returned.
"""
import os
import subprocess
import sys

TICKS = os.sysconf("SC_CLK_TCK")


def stat_times(path):
    """(comm, utime + stime in ticks) of a /proc stat file, or None when it is gone."""
    try:
        with open(path) as stat:
            text = stat.read()
    except OSError:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return comm, int(fields[11]) + int(fields[12])


def snapshot(server):
    times = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == server:
            # The server's threads one by one, so that hashing can be told apart.
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for task in tasks:
                seen = stat_times(f"/proc/{pid}/task/{task}/stat")
                if seen:
                    times[("task", int(task))] = seen
        else:
            seen = stat_times(f"/proc/{pid}/stat")
            if seen:
                times[("pid", pid)] = seen
    return times


def group(key, comm):
    if key[0] == "task":
        return "server: hashing" if comm.startswith("password-hashin") else "server: the rest"
    if comm.startswith("postgres"):
        return "postgresql"
    if comm.startswith("python") or comm.startswith("synapse"):
        return "synapse (python)"
    return "other"


def main():
    server = int(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1 :]
    before = snapshot(server)
    load = subprocess.Popen(command)
    _, status, usage = os.wait4(load.pid, 0)
    after = snapshot(server)
    used = {"load (the command)": round((usage.ru_utime + usage.ru_stime) * TICKS)}
    for key, (comm, ticks) in after.items():
        if key[0] == "pid" and key[1] == load.pid:
            continue
        start = before[key][1] if key in before else 0
        name = group(key, comm)
        used[name] = used.get(name, 0) + max(ticks - start, 0)
    total = sum(used.values()) or 1
    parts = ", ".join(
        f"{name} {ticks / TICKS:.1f} s ({100 * ticks // total} %)"
        for name, ticks in sorted(used.items(), key=lambda item: -item[1])
    )
    print(f"CPU during the run: {parts}", file=sys.stderr)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
