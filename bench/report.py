#!/usr/bin/env python3
"""bench/report.py OUT DIR: the tables of a bench/run, from its raw data.

Prints Markdown on stdout, writes DIR/RESULTS.md (the same tables
under the date, the machine and the exact commands) and OUT/plot/ (the data
and the variables of restarts.gp).  Every figure comes from files of this
run in OUT; nothing is carried over from an earlier run.
"""
import csv
import json
import os
import re
import statistics
import sys

OUT, BENCH_DIR = sys.argv[1], sys.argv[2]

PEER_NAMES = {
    "naive": "naive restart (TERM, wait, start)",
    "ss": "Server::Starter, --interval=1",
    "ss-tuned": "Server::Starter, --interval=4",
    "baton": "baton HUP",
    "baton-usr2": "baton USR2 upgrade",
}
SCEN_PEERS = {
    "steady": ["naive", "ss", "baton", "baton-usr2"],
    "slow": ["naive", "ss", "ss-tuned", "baton", "baton-usr2"],
    "crash": ["naive", "ss", "baton", "baton-usr2"],
    "hang": ["naive", "ss", "baton", "baton-usr2"],
    "keepalive": ["naive", "ss", "baton", "baton-usr2"],
}
CLASSES = ["refused", "reset", "eof", "timeout", "non2xx", "other"]


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def kv(path):
    """'key value...' lines -> {key: [value, ...]} (keys may repeat)."""
    d = {}
    for line in (read(path, "") or "").splitlines():
        parts = line.split()
        if parts:
            d.setdefault(parts[0], []).append(parts[1:])
    return d


def pct(sorted_vals, p):
    """Nearest rank, as loadcheck computes it."""
    if not sorted_vals:
        return None
    n = len(sorted_vals)
    i = int(p * n)
    if i < p * n:
        i += 1
    i = max(i - 1, 0)
    return sorted_vals[min(i, n - 1)]


def ms(v, digits=1):
    if v is None:
        return "—"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.*f" % (max(digits, 2), v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return "%.2f" % (a / b)


def timeline(path):
    rows = []
    try:
        with open(path) as f:
            for r in csv.DictReader(f):
                rows.append((int(r["start_ms"]), float(r["latency_ms"]),
                             r["outcome"]))
    except OSError:
        pass
    return rows


def table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


class Case:
    """One scenario run of one peer: load results, restarts, outcome."""

    def __init__(self, scen, peer):
        self.scen, self.peer = scen, peer
        self.dir = os.path.join(OUT, scen, peer)
        self.exists = os.path.isdir(self.dir)
        self.error = (read(os.path.join(self.dir, "error"), "") or "").strip()
        if not self.exists or self.error:
            return
        ev = kv(os.path.join(self.dir, "events"))
        t_h = int(ev["start-harness"][0][0])
        t_p = int(ev["start-probe"][0][0])
        self.restarts_us = [int(v[0]) for v in ev.get("restart", [])]
        self.warm, self.cycle, self.tail = (int(x) for x in
                                            ev["schedule"][0][:3])
        self.loadavg = float(ev["loadavg"][0][0]) if "loadavg" in ev \
            else None
        self.manual_quits = len(ev.get("manual-quit", []))
        self.r_h = [(r - t_h) / 1000.0 for r in self.restarts_us]
        self.r_p = [(r - t_p) / 1000.0 for r in self.restarts_us]
        self.t_h, self.t_p = t_h, t_p
        self.j = []
        for name in ("harness", "probe"):
            txt = read(os.path.join(self.dir, name + ".json"))
            self.j.append(json.loads(txt) if txt else None)
        self.h = timeline(os.path.join(self.dir, "harness.csv"))
        self.p = timeline(os.path.join(self.dir, "probe.csv"))
        self.up = (read(os.path.join(self.dir, "up"), "") or "").strip()
        self.log = (read(os.path.join(self.dir, "peer.log"), "") or "") \
            .split("=== bench: load ended")[0]
        z = (read(os.path.join(self.dir, "zombies"), "") or "").split()
        self.zombies = len(z)

    @property
    def ok(self):
        return self.exists and not self.error and all(self.j)

    def count(self, key):
        return sum(j.get(key, 0) for j in self.j if j)

    def lost_classes(self):
        parts = []
        for c in CLASSES:
            n = self.count(c)
            if n:
                parts.append("%s %d" % (c, n))
        return ", ".join(parts) if parts else "—"

    def probe_lat(self, which="all", window=2000):
        """Sorted latencies of the probe's answered requests: "all";
        "after": started within window ms after a restart; "steady":
        started after the first 0.5 s and outside every such window."""
        out = []
        for start, lat, outcome in self.p:
            if outcome != "ok":
                continue
            inside = any(r <= start < r + window for r in self.r_p)
            if which == "after" and not inside:
                continue
            if which == "steady" and (inside or start < 500):
                continue
            out.append(lat)
        out.sort()
        return out

    def longest_stall(self):
        """Longest time, in s, with no request answered (ok) at all, by
        either load, from the start of the load to its end."""
        dur = self.warm + (len(self.r_p) - 1) * self.cycle + self.tail
        off = (self.t_h - self.t_p) / 1000.0
        done = sorted([s + lat for s, lat, o in self.p if o == "ok"] +
                      [s + off + lat for s, lat, o in self.h if o == "ok"])
        marks = [0.0] + [t for t in done if 0 < t < dur] + [float(dur)]
        return max(b - a for a, b in zip(marks, marks[1:])) / 1000.0

    def worst_per_restart(self, span):
        """For each restart, the max latency of the probe's answered
        requests started in [r, r+span), or None."""
        res = []
        for r in self.r_p:
            lats = [lat for s, lat, o in self.p if r <= s < r + span and
                    o == "ok"]
            res.append(max(lats) if lats else None)
        return res


def loadavg_note(cases):
    v = [c.loadavg for c in cases if c.loadavg is not None]
    if not v:
        return ""
    many = len(set(c.scen for c in cases)) > 1
    return (" The machine's 1-minute load average as each run began: "
            "%s." % ", ".join("%s %.1f" % ((c.scen + "/" if many else "") +
                                           c.peer, c.loadavg)
                              for c in cases if c.loadavg is not None))


def sched(cases):
    """'5 restarts, 2.5 s apart' from the first case that ran."""
    for c in cases:
        return "%d restarts, %g s apart" % (len(c.r_h), c.cycle / 1000.0)
    return "no run"


def unavailable_row(peer, ncols, why):
    return [PEER_NAMES[peer], why] + [""] * (ncols - 2)


def scenario_rows(scen, make_row, ncols):
    rows, cases = [], []
    usr2 = (read(os.path.join(OUT, "features", "usr2"), "") or "").strip()
    skipped = read(os.path.join(OUT, "skipped.txt"), "") or ""
    for peer in SCEN_PEERS[scen]:
        c = Case(scen, peer)
        if peer == "baton-usr2" and usr2 != "yes":
            rows.append(unavailable_row(peer, ncols,
                                        "not available in this build"))
            continue
        if "%s %s " % (scen, peer) in skipped:
            rows.append(unavailable_row(peer, ncols,
                                        "skipped: time budget"))
            continue
        if not c.exists:
            rows.append(unavailable_row(peer, ncols, "not run"))
            continue
        if not c.ok:
            rows.append(unavailable_row(peer, ncols, "failed: " +
                                        (c.error or "no load results")))
            continue
        rows.append(make_row(c))
        cases.append(c)
    return rows, cases


def steady_section():
    head = ["peer", "requests", "lost", "lost by class", "longest stall",
            "p50 ms", "p99 ms", "p99 steady", "p99 2 s after restarts",
            "ratio"]

    def row(c):
        allv = c.probe_lat()
        st = c.probe_lat("steady")
        af = c.probe_lat("after")
        return [PEER_NAMES[c.peer], c.count("requests"), c.count("lost"),
                c.lost_classes(), "%.2f s" % c.longest_stall(),
                ms(pct(allv, .5)), ms(pct(allv, .99)),
                ms(pct(st, .99)), ms(pct(af, .99)),
                ratio(pct(af, .99), pct(st, .99))]
    rows, cases = scenario_rows("steady", row, len(head))
    return ("### Steady app: %s, under load\n\n" % sched(cases) +
            table(head, rows) + "\n\n" +
            "Latencies are the probe's (fast requests, paced), in ms; "
            "\"p99 steady\" is over the requests started outside the 2 s "
            "after each restart (the first 0.5 s left out), \"ratio\" is "
            "the p99 in the 2 s after each restart over it." +
            loadavg_note(cases),
            cases)


def slow_section():
    head = ["peer", "requests", "lost", "lost by class", "longest stall",
            "p99 steady",
            "p99 between restarts", "worst latency per restart "
            "(median / max)", "ratio p99"]

    def row(c):
        st = c.probe_lat("steady", c.cycle)
        af = c.probe_lat("after", c.cycle)
        worst = [w for w in c.worst_per_restart(c.cycle)
                 if w is not None]
        wm = statistics.median(worst) if worst else None
        return [PEER_NAMES[c.peer], c.count("requests"), c.count("lost"),
                c.lost_classes(), "%.2f s" % c.longest_stall(),
                ms(pct(st, .99)), ms(pct(af, .99)),
                "%s / %s" % (ms(wm), ms(max(worst) if worst else None)),
                ratio(pct(af, .99), pct(st, .99))]
    rows, cases = scenario_rows("slow", row, len(head))
    return ("### Slow-start app: 3 s before it is ready, %s\n\n" %
            sched(cases) + table(head, rows) + "\n\n"
            "Latencies in ms, the probe's; \"worst latency per restart\": "
            "the slowest answered probe request started between a restart "
            "and the next; \"p99 steady\": before the first restart." +
            loadavg_note(cases), cases)


def supervisor_story(c):
    log = c.log
    if c.peer.startswith("baton"):
        rb = len(re.findall(r"rolled back", log))
        up = len(re.findall(r"upgrade: new master pid \d+ .*carries on",
                            log))
        if c.peer == "baton-usr2":
            return "%d of %d upgrades rolled back" % (up, len(c.r_h))
        return "%d of %d reloads rolled back" % (rb, len(c.r_h))
    if c.peer.startswith("ss"):
        failed = len(re.findall(r"seems to have failed to start", log))
        killed = len(re.findall(r"killing old workers", log))
        return ("%d failed starts retried, old worker TERMed %d times" %
                (failed, killed))
    return "stopped the old app %d times" % len(c.r_h)


def broken_section():
    head = ["peer", "deploy", "requests", "lost", "lost by class",
            "longest stall", "up at the end", "what the supervisor did"]
    rows, cases = [], []
    for scen, what in (("crash", "crashes on start"),
                       ("hang", "hangs, never ready")):
        def row(c, what=what):
            return [PEER_NAMES[c.peer], what, c.count("requests"),
                    c.count("lost"), c.lost_classes(),
                    "%.2f s" % c.longest_stall(),
                    "yes" if c.up == "yes" else "**no**",
                    supervisor_story(c)]
        r, cs = scenario_rows(scen, row, len(head))
        for x in r:
            if x[2] == "" and len(x) > 2:
                x[1], x[2] = what, x[1]
        rows += r
        cases += cs
    return ("### Broken deploy: the new build crashes, or hangs\n\n" +
            table(head, rows) + "\n\n"
            "5 restarts to the broken build (the first one deploys it), "
            "1.5 s (crash) or 2.5 s (hang) apart; baton's ready_timeout "
            "is 2 s.  \"up at the end\": a GET "
            "answered within 2 s after the load." + loadavg_note(cases),
            cases)


def keepalive_section():
    head = ["peer", "requests", "lost", "lost by class", "longest stall",
            "keep-alive closes (retried, not lost)", "p99 ms",
            "p99 2 s after restarts"]

    def row(c):
        allv = c.probe_lat()
        af = c.probe_lat("after")
        return [PEER_NAMES[c.peer], c.count("requests"), c.count("lost"),
                c.lost_classes(), "%.2f s" % c.longest_stall(),
                c.count("keepalive_closed"),
                ms(pct(allv, .99)), ms(pct(af, .99))]
    rows, cases = scenario_rows("keepalive", row, len(head))
    return ("### Keep-alive clients: the steady app, %s\n\n" %
            sched(cases) +
            table(head, rows) + "\n\n"
            "A keep-alive close is the app closing an idle kept-alive "
            "connection as it drains (its own shutdown, not the "
            "supervisor's): loadcheck retries the request on a new "
            "connection and counts the close apart; only a failed retry "
            "is lost." + loadavg_note(cases), cases)


def wrk_rps(path):
    m = re.search(r"Requests/sec:\s*([0-9.]+)", read(path, "") or "")
    return float(m.group(1)) if m else None


def throughput_section():
    d = os.path.join(OUT, "throughput")
    title = "### Throughput: the app alone vs under a supervisor\n\n"
    if not os.path.isdir(d):
        return title + "not run"
    if os.path.exists(os.path.join(d, "error")):
        return title + "not measured: " + read(os.path.join(d, "error"))
    rounds = (1, 2, 3, 4)
    rps = {t: [wrk_rps(os.path.join(d, "wrk-%s-%d.txt" % (t, r)))
               for r in rounds]
           for t in ("alone", "alone2", "baton", "ss")}

    def paired(t):
        """Median over the rounds of t / alone in the same round."""
        v = [x / a for x, a in zip(rps[t], rps["alone"]) if x and a]
        return statistics.median(v) if v else None, v
    hz = os.sysconf("SC_CLK_TCK")

    def cpu(t):
        """(app CPU µs per request, master CPU ms) over the rounds."""
        app = master = reqs = 0
        for r in rounds:
            c = (read(os.path.join(d, "cpu-%s-%d.txt" % (t, r)), "") or
                 "").split()
            m = re.search(r"(\d+) requests in",
                          read(os.path.join(d, "wrk-%s-%d.txt" % (t, r)),
                               "") or "")
            if len(c) != 4 or not m:
                continue
            app += int(c[2]) - int(c[0])
            master += int(c[3]) - int(c[1])
            reqs += int(m.group(1))
        if not reqs:
            return "—", "—"
        return ("%.1f" % (app * 1e6 / hz / reqs),
                "%d" % (master * 1000 / hz) if t in ("baton", "ss")
                else "")
    rows = []
    for t, name in (("alone", "the app alone (--listen)"),
                    ("alone2", "the app alone, a second instance "
                     "(control)"),
                    ("baton", "under baton (1 worker)"),
                    ("ss", "under Server::Starter")):
        v = rps[t]
        got = [x for x in v if x]
        if not got:
            continue
        med, per = paired(t)
        rows.append([name] + ["%.0f" % x if x else "—" for x in v] +
                    ["%.0f" % statistics.median(got),
                     "%.3f" % med if med and t != "alone" else "1",
                     "%.3f–%.3f" % (min(per), max(per))
                     if per and t != "alone" else ""] + list(cpu(t)))
    return (title +
            table(["target", "round 1 req/s", "round 2", "round 3",
                   "round 4", "median", "ratio to alone (median of "
                   "rounds)", "ratio range", "app CPU µs per request",
                   "master CPU ms in its 4 runs"], rows) + "\n\n"
            "wrk, keep-alive, 2 threads, 50 connections, 2 s per target "
            "and round, the four targets interleaved, order rotated each "
            "round; each ratio divides by the app alone in the same round. "
            "The control (the same app alone, a second instance) shows "
            "how much of a ratio is the machine's noise.  CPU: user + "
            "system time of the app process (the worker) and of the "
            "master from /proc/PID/stat over the wrk runs, in %d Hz "
            "ticks; the app's per request is the steadier figure on a "
            "busy machine." % hz)


def strace_calls(path):
    """(total calls, 'name n, ...') from a strace -c file."""
    txt = read(path)
    if txt is None:
        return None, ""
    total, names = 0, []
    for line in txt.splitlines():
        f = line.split()
        if len(f) >= 5 and f[-1] == "total":
            try:
                total = int(f[3])
            except ValueError:
                pass
        elif len(f) >= 5 and re.match(r"^[0-9.]+$", f[0]) and \
                not line.startswith("-"):
            try:
                names.append((int(f[3]), f[-1]))
            except ValueError:
                pass
    names.sort(reverse=True)
    return total, ", ".join("%s %d" % (n, c) for c, n in names[:4])


def footprint_section():
    d = os.path.join(OUT, "throughput")
    rows = []
    for t, name in (("baton", "baton"), ("ss", "start_server (Perl)"),
                    ("nginx", "nginx master")):
        f = kv(os.path.join(d, "fp-%s.txt" % t))
        if "before" not in f or "after" not in f:
            rows.append([name, "not measured", "", "", "", ""])
            continue
        b, a = f["before"][0], f["after"][0]
        secs = (int(a[2]) - int(b[2])) / 1e6
        runs = (int(a[0]) - int(b[0])) / secs
        ctxt = (int(a[1]) - int(b[1])) / secs
        calls, top = strace_calls(os.path.join(d, "strace-%s.txt" % t))
        rows.append([name, "%d" % (int(f["rss_kb"][0][0]) // 1),
                     "%.1f" % runs, "%.1f" % ctxt,
                     "%.1f" % (calls / 10.0) if calls is not None else "—",
                     top or "none"])
    return ("### Idle master footprint\n\n" +
            table(["master", "RSS KiB", "wakeups/s (schedstat)",
                   "context switches/s", "syscalls/s (strace -c)",
                   "syscalls seen in 10 s"], rows) + "\n\n"
            "Each master idle with one worker and no traffic, measured "
            "side by side: /proc/PID/schedstat and /proc/PID/status over "
            "10 s, then strace -c on the master alone for 10 s.")


def overhead_section():
    rows, big = [], []
    for n in (1, 16, 64, 512):
        d = os.path.join(OUT, "overhead", str(n))
        if not os.path.isdir(d):
            continue
        ev = kv(os.path.join(d, "events"))
        err = (read(os.path.join(d, "error"), "") or "").strip()
        st = {}
        for line in (read(os.path.join(d, "stamps"), "") or "").splitlines():
            f = line.split()
            if len(f) == 5:
                st.setdefault((f[0], f[1]), []).append(int(f[4]))
        spawn, retire, retire_last, ready_all = [], [], [], []
        for h in ev.get("hup", []):
            g, t = h[0], int(h[1]) * 1000
            ex = st.get(("exec", g), [])
            rd = st.get(("ready", g), [])
            tm = st.get(("term", str(int(g) - 1)), [])
            if len(ex) == n:
                spawn.append((max(ex) - t) / 1e6)
            if len(rd) == n and len(tm) == n:
                retire.append((min(tm) - max(rd)) / 1e6)
                retire_last.append((max(tm) - max(rd)) / 1e6)
            if len(rd) == n:
                ready_all.append((max(rd) - t) / 1e6)

        def med(v):
            if not v:
                return "—"
            s = ms(statistics.median(v))
            if len(v) > 1:
                s += " (%s–%s)" % (ms(min(v)), ms(max(v)))
            return s
        rows.append([n, med(spawn), med(ready_all), med(retire),
                     med(retire_last), err or "ok"])
        if n == 512:
            gens = {}
            for (kind, g), v in st.items():
                gens.setdefault(g, {})[kind] = len(v)
            start = int(ev["start"][0][0]) * 1000 if "start" in ev else None
            ex1 = st.get(("exec", "1"), [])
            big = [
                ["generation 1 started", "%d of 512 workers exec'd, %d sent "
                 "READY=1; the last exec %s ms after baton was started" %
                 (gens.get("1", {}).get("exec", 0),
                  gens.get("1", {}).get("ready", 0),
                  ms((max(ex1) - start) / 1e6) if ex1 and start else "—")],
                ["generation 2 (HUP)", "%d of 512 exec'd, %d ready" %
                 (gens.get("2", {}).get("exec", 0),
                  gens.get("2", {}).get("ready", 0))],
                ["generation 1 retired", "%d of 512 got TERM; %s" %
                 (gens.get("1", {}).get("term", 0),
                  "draining -> gone logged" if "generation 1: draining -> "
                  "gone" in (read(os.path.join(d, "baton.log"), "") or "")
                  else "**not gone**")],
                ["after the reload", "%s workers, %s zombies, master RSS "
                 "%s KiB, %s fds" % (
                     ev.get("children", [["?"]])[0][0],
                     ev.get("zombies", [["?"]])[0][0],
                     ev.get("rss_kb", [["?"]])[0][0],
                     ev.get("fds", [["?"]])[0][0])],
            ]
            if "quit" in ev and "gone" in ev:
                big.append(["QUIT with 512 workers", "master gone %s ms "
                            "after QUIT" % ms((int(ev["gone"][0][0]) -
                                               int(ev["quit"][0][0])) / 1e3)])
    txt = ("### Supervisor overhead of a reload (baton)\n\n" +
           table(["workers", "HUP → last worker exec'd (ms)",
                  "HUP → last READY=1", "last READY=1 → first stop "
                  "signal", "last READY=1 → last stop signal", "status"],
                 rows) + "\n\n"
           "Workers are bench/stamp (exec, READY=1 at once, exit on TERM), "
           "timestamped by the workers themselves on CLOCK_REALTIME; "
           "median (min–max) of 3 reloads, 1 for 512 workers.")
    if big:
        txt += ("\n\n#### A generation of 512 workers\n\n" +
                table(["step", "result"], big))
    return txt


def intercept_section():
    d = os.path.join(OUT, "features")
    title = "### Cost of an intercepted bind\n\n"
    avail = (read(os.path.join(d, "intercept"), "") or "").strip()
    msg = (read(os.path.join(d, "intercept.out"), "") or "").strip()
    msg = msg.splitlines()[0] if msg else ""
    if avail != "yes":
        return title + table(["figure", "result"], [[
            "intercept_bind", "not available in this build (`baton -t`: "
            "%s)" % (msg.replace("|", "\\|") or "refused")]])
    d = os.path.join(OUT, "intercept")
    err = (read(os.path.join(d, "error"), "") or "").strip()
    a, b = kv(os.path.join(d, "alone.txt")), kv(
        os.path.join(d, "intercepted.txt"))
    if err or not a or not b:
        return title + "not measured: " + (err or "no results (see "
                                             "bench/out/intercept/)")
    rows = []
    for key, name in (("bind", "bind() to the configured address"),
                      ("listen", "listen() on it"),
                      ("other", "bind() to another address "
                                "(127.0.0.1:0)")):
        if key not in a or key not in b:
            continue
        pa, qa = (float(x) for x in a[key][0][:2])
        pb, qb = (float(x) for x in b[key][0][:2])
        rows.append([name, "%.1f / %.1f" % (pa, qa),
                     "%.1f / %.1f" % (pb, qb), "%.0f×" % (pb / pa)])
    if "syscall" in a and "syscall" in b:
        sa_, sb = float(a["syscall"][0][0]), float(b["syscall"][0][0])
        rows.append(["any other system call (getppid, 10^6 calls)",
                     "%.0f ns" % sa_, "%.0f ns" % sb,
                     "%.2f×" % (sb / sa_)])
    return (title + table(["system call", "alone: p50 / p99 µs",
                           "intercepted: p50 / p99 µs", "ratio (p50)"],
                          rows) + "\n\n"
            "bench/bindcost makes each call 500 times (socket, bind, "
            "listen, close), alone and then as a baton worker with "
            "intercept_bind = yes, where each bind() and listen() is a "
            "seccomp user notification answered by the master.  An app "
            "pays this once per listening socket at start.")


def accept_section():
    title = "### Cost of intercepted accepts (intercept_accept)\n\n"
    f = os.path.join(OUT, "features")
    avail = (read(os.path.join(f, "accept"), "") or "").strip()
    msg = (read(os.path.join(f, "accept.out"), "") or "").strip()
    msg = msg.splitlines()[0] if msg else ""
    if avail != "yes":
        return title + table(["figure", "result"], [[
            "intercept_accept", "not available in this build (`baton -t`: "
            "%s)" % (msg.replace("|", "\\|") or "refused")]])
    skipped = read(os.path.join(OUT, "skipped.txt"), "") or ""
    if any(x.startswith("accept ") for x in skipped.splitlines()):
        return title + "skipped: time budget"
    d = os.path.join(OUT, "accept")
    if not os.path.isdir(d):
        return title + "not run"
    err = (read(os.path.join(d, "error"), "") or "").strip()
    if err:
        return title + "not measured: " + err
    modes = ("no", "yes")
    load = (kv(os.path.join(d, "params")).get("load") or
            [["?", "?"]])[0]
    nr = 0
    while all(os.path.exists(os.path.join(d, m, "run-%d.json" % (nr + 1)))
              for m in modes):
        nr += 1
    if not nr:
        return title + ("not measured: no results (see "
                        "bench/out/accept/)")
    rounds = range(1, nr + 1)
    hz = os.sysconf("SC_CLK_TCK")
    run, odd, loads = {}, [], []
    for r in rounds:
        for m in modes:
            base = os.path.join(d, m, "run-%d" % r)
            j = json.loads(read(base + ".json"))
            c = kv(base + ".cpu")
            run[m, r] = (j, c)
            if c.get("workers") != [c.get("workers_after", [[]])[0]]:
                odd.append("%s/%d" % (m, r))
            if "loadavg" in c:
                loads.append("%s/%d %s" % (m, r, c["loadavg"][0][0]))

    def rps(m, r):
        j = run[m, r][0]
        return j["requests"] / j["duration_s"] if j["duration_s"] else None

    def med(m, key):
        return statistics.median(run[m, r][0][key] for r in rounds)

    def cpu(m, i):
        """(µs per request, ticks) of the master (i=0) or the workers
        (i=1), all the rounds together."""
        ticks = reqs = 0
        for r in rounds:
            j, c = run[m, r]
            if "before" not in c or "after" not in c:
                return None, None
            ticks += int(c["after"][0][i]) - int(c["before"][0][i])
            reqs += j["requests"]
        return (ticks * 1e6 / hz / reqs if reqs else None), ticks

    def lost(m):
        n = sum(run[m, r][0]["lost"] for r in rounds)
        if not n:
            return "0"
        by = ", ".join("%s %d" % (k, v) for k, v in
                       ((k, sum(run[m, r][0].get(k, 0) for r in rounds))
                        for k in CLASSES) if v)
        return "**%d** (%s)" % (n, by)
    per = [rps("yes", r) / rps("no", r) for r in rounds
           if rps("yes", r) and rps("no", r)]
    rows, mcpu = [], {}
    for m in modes:
        v = [rps(m, r) for r in rounds]
        got = [x for x in v if x]
        mu, mt = cpu(m, 0)
        wu, _ = cpu(m, 1)
        mcpu[m] = mu
        ratio_med = "1" if m == "no" else \
            ("%.3f" % statistics.median(per) if per else "—")
        rows.append(["intercept_accept = " + m] +
                    ["%.0f" % x if x else "—" for x in v] +
                    ["%.0f" % statistics.median(got) if got else "—",
                     ratio_med,
                     "%.3f–%.3f" % (min(per), max(per))
                     if per and m == "yes" else "",
                     ms(med(m, "p50_ms")), ms(med(m, "p99_ms")),
                     "%.1f (%d ticks)" % (mu, mt) if mu is not None
                     else "—",
                     "%.1f" % wu if wu is not None else "—",
                     sum(run[m, r][0]["requests"] for r in rounds),
                     lost(m)])
    head = (["intercept_accept", "round 1 req/s"] +
            ["round %d" % r for r in rounds if r > 1] +
            ["median", "ratio to no (median of rounds)", "ratio range",
             "p50 ms", "p99 ms", "master CPU µs per request",
             "workers' CPU µs per request", "requests", "lost"])
    cost = ""
    if mcpu.get("yes") is not None and mcpu.get("no") is not None:
        cost = ("  The master's CPU per accept with intercept_accept = "
                "yes, over no: %.1f µs." % (mcpu["yes"] - mcpu["no"]))
    return (title + table(head, rows) + "\n\n"
            "The demo app (bench/app) under baton, 2 workers, ready = "
            "notify, its socket passed by LISTEN_FDS, with "
            "intercept_accept = no and = yes, both running side by side; "
            "loadcheck -c %s for %s s on each in turn (no, yes, no, "
            "yes...; %d rounds, after a 1 s warm-up of each), a new "
            "connection per request and fast requests only, so that every "
            "request is one accept(): with yes, a seccomp user "
            "notification the master answers CONTINUE.  Each ratio divides "
            "by intercept_accept = no in the same round.  p50 and p99: "
            "loadcheck's, over each run, median of the rounds, in ms.  "
            "CPU: user + system time of the master and of its 2 workers "
            "from /proc/PID/stat before and after each run, in %d Hz "
            "ticks, over all the rounds, divided by the requests.%s  "
            "Lost: over all the rounds (refused, reset, eof, timeout, "
            "non2xx, other); it must be 0." %
            (load[0], load[1], nr, hz, cost) +
            (" The workers changed during %s: their CPU figure is "
             "off." % ", ".join(odd) if odd else "") +
            (" The machine's 1-minute load average as each run began: "
             "%s." % ", ".join(loads) if loads else ""))

def plot_data(cases):
    d = os.path.join(OUT, "plot")
    os.makedirs(d, exist_ok=True)
    peers, titles = [], []
    for c in cases:
        if c.scen != "slow":
            continue
        with open(os.path.join(d, c.peer + ".ok"), "w") as f:
            for s, lat, o in c.p:
                if o == "ok":
                    f.write("%.3f %.3f\n" % (s / 1000.0, max(lat, 0.01)))
        with open(os.path.join(d, c.peer + ".harness"), "w") as f:
            off = (c.t_h - c.t_p) / 1e6
            for s, lat, o in c.h:
                if o == "ok":
                    f.write("%.3f %.3f\n" % (s / 1000.0 + off,
                                             max(lat, 0.01)))
        with open(os.path.join(d, c.peer + ".lost"), "w") as f:
            # Lost requests of both loads, on the probe's time scale.
            off = (c.t_h - c.t_p) / 1e6
            for s, lat, o in c.p:
                if o != "ok":
                    f.write("%.3f %s\n" % (s / 1000.0, o))
            for s, lat, o in c.h:
                if o != "ok":
                    f.write("%.3f %s\n" % (s / 1000.0 + off, o))
        with open(os.path.join(d, c.peer + ".restarts"), "w") as f:
            for r in c.r_p:
                f.write("%.3f\n" % (r / 1000.0))
        peers.append(c.peer)
        titles.append("%s: %d lost" % (PEER_NAMES[c.peer], c.count("lost")))
    if not peers:
        return
    with open(os.path.join(d, "vars.gp"), "w") as f:
        f.write('peers = "%s"\n' % " ".join(peers))
        f.write("npeers = %d\n" % len(peers))
        for i, t in enumerate(titles, 1):
            f.write('title%d = "%s"\n' % (i, t.replace('"', "'")))
    open(os.path.join(d, "ok"), "w").close()


def main():
    meta = {k: " ".join(v[0]) for k, v in kv(os.path.join(OUT, "meta.txt"))
            .items()}
    sections, all_cases = [], []
    sections.append(throughput_section())
    sections.append(footprint_section())
    sections.append(overhead_section())
    sections.append(intercept_section())
    sections.append(accept_section())
    for f in (steady_section, slow_section, broken_section,
              keepalive_section):
        txt, cases = f()
        sections.append(txt)
        all_cases += cases
    plot_data(all_cases)

    body = "\n\n".join(sections) + "\n"
    print(body)

    cmds = []
    for line in (read(os.path.join(OUT, "commands.txt"), "") or "") \
            .splitlines():
        if "\t" in line:
            k, v = line.split("\t", 1)
            cmds.append("%-11s %s" % (k + ":", v))
    usr2 = meta.get("usr2", "no")
    load = meta.get("load", "? ? ? ? ? ?").split()
    if len(load) != 6:
        load = ["?"] * 6
    head = (
        "# Benchmark results\n\n"
        "The latest `make bench` run, written by bench/report.py; the "
        "README's Benchmarks section sums it up.  Every figure below was "
        "measured in this one run, side by side on the same app (the "
        "bundled demo app, through bench/app) and the same load (the "
        "project's loss harness, loadcheck), on loopback.  Absolute times "
        "depend on a small, shared and noisy machine: compare the peers "
        "in the same table, and read ratios and counts.\n\n"
        "- date: %s\n- machine: %s cores (nproc), %s, %s; load average "
        "(1, 5, 15 min) at the start %s, at the end %s\n- versions: %s; start_server %s; nginx %s; wrk %s; "
        "source %s\n- total run time: %s s\n- USR2 upgrade in this build: "
        "%s\n\n"
        "Load of every scenario: %s connections: loadcheck -c %s "
        "--slow-fraction %s --slow-ms %s (the loss harness, a new "
        "connection per request) and loadcheck -c %s --rate %s (the "
        "latency probe, fast requests only, paced), about 10%% slow "
        "requests in all; --timeout %s for both.  Lost = refused + reset "
        "+ eof + timeout + non2xx + other, over both.  \"Longest stall\": "
        "the longest time in which neither load got a single answer.\n\n"
        "Exact commands (ports and paths as in this run):\n\n```\n%s\n```\n"
        % (meta.get("date", "?"), meta.get("nproc", "?"),
           meta.get("kernel", "?"), meta.get("cpu", "?"),
           meta.get("loadavg_start", "?"), meta.get("loadavg", "?"), meta.get("baton", "?"),
           meta.get("start_server", "?"), meta.get("nginx", "?"),
           meta.get("wrk", "?"), meta.get("git", "?"),
           meta.get("seconds", "?"),
           "yes" if usr2 == "yes" else "no (the USR2 rows say so)",
           (str(int(load[0]) + int(load[3])) if load[0].isdigit() and
            load[3].isdigit() else "?"), load[0], load[1], load[2],
           load[3], load[4], load[5], "\n".join(cmds)))
    with open(os.path.join(BENCH_DIR, "RESULTS.md"), "w") as f:
        f.write(head + "\n" + body)


main()
