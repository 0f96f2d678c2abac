#!/usr/bin/env python3
"""A day of Sunbird telemetry in sessions, as the `unique` backup of pipelines/igot holds it,
for the workflow-summary benchmark (BENCHMARKS.md, "Batch stage").

Writes EVENTS events of one UTC day as NDJSON files under

    DATA_DIR/backups/telemetry.unique/DATE/part-bench-<ms>-<seq>.ndjson

(the layout of pipelines/igot/batch.yaml's backup `unique`: path
"backups/telemetry.unique/{date}/", NDJSON, daily; files named and rolled as `pipec run`'s
backup writer does by default: a new file at 128 MiB or 15 minutes after its first event),
in time order (sessions interleave, as on the topic). Then

    pipec report workflow-summary pipelines/igot --date DATE+1 --data-dir DATA_DIR

summarises them (the report reads `yesterday`).

The shape of the events follows Sunbird's WFS test inputs
(pipelines/igot/tests/fixtures/wfs/*.log) and iGOT's portal: a session of one user on one
device, channel (the user's MDO) and producer (`pdata.id`) opens with START (type app),
visits pages (IMPRESSION, then INTERACTs), sometimes plays a course (START type content,
mode play ... END type content), and ends with END (type app) -- unless the app was closed
without it (20 %). A few sessions idle past the 10-minute idle time or pause past the
30-minute session break. ~8 % of the events are LOG, AUDIT and SEARCH, which the model
excludes. A user has 1-3 sessions a day; sessions start through the day with a daytime peak.

    python3 scripts/bench/gen_telemetry.py DATA_DIR [--events 2000000] [--date 2024-06-14]
        [--seed 7] [--roll-mib 128] [--roll-minutes 15]

Deterministic for a seed. Pure Python (no packages needed).
"""

import argparse
import calendar
import datetime as dt
import heapq
import os
import random
import time

PDATA = [
    ('{"id":"prod.sunbird-cb.portal","ver":"4.8.12","pid":"sunbird-cb-portal"}', 0.6),
    ('{"id":"prod.sunbird-cb.mobile","ver":"4.8.10","pid":"sunbird-cb-mobile"}', 0.3),
    ('{"id":"prod.sunbird-cb.mdo-portal","ver":"4.8.12","pid":"mdo-portal"}', 0.1),
]
PAGES = ["home", "learn", "discuss", "network", "profile", "competencies", "course-toc",
         "search", "notifications", "my-learning", "events", "career", "settings"]
WIDGETS = ["card-content", "btn-enrol", "btn-resume", "nav-learn", "nav-home", "tab-overview",
           "tab-content", "btn-share", "like", "search-bar", "filter", "menu"]
ENVS = ["home", "learn", "discuss", "network", "profile"]


class Gen:
    def __init__(self, seed, date, n_users, n_channels, n_courses):
        self.r = random.Random(seed)
        self.day0 = calendar.timegm(dt.date.fromisoformat(date).timetuple()) * 1000
        self.channels = ["01%017d" % self.r.randrange(10**17) for _ in range(n_channels)]
        self.courses = ["do_1138%017d" % self.r.randrange(10**17) for _ in range(n_courses)]
        self.n_users = n_users
        self.seq = 0

    def uid(self):
        return "%032x" % self.r.getrandbits(128)

    def mid(self):
        h = "%032x" % self.r.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def ts(self, ets):
        return dt.datetime.fromtimestamp(ets / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
            "%03dZ" % (ets % 1000)

    def event(self, eid, ets, s, edata, obj=None, env=None):
        """One event as a JSON line (built by hand: this runs millions of times)."""
        o = obj or '{"id":"","type":"","ver":"","rollup":{}}'
        return (
            '{"eid":"%s","ets":%d,"ver":"3.0","mid":"%s","actor":{"id":"%s","type":"User"},'
            '"context":{"channel":"%s","pdata":%s,"env":"%s","sid":"%s","did":"%s","cdata":[],'
            '"rollup":{"l1":"%s"}},"object":%s,"tags":[],"edata":%s,"syncts":%d,'
            '"@timestamp":"%s","flags":{"pp_validation_processed":true,"pp_duplicate":false}}'
            % (eid, ets, self.mid(), s["uid"], s["channel"], s["pdata"], env or s["env"], s["sid"],
               s["did"], s["channel"], o, edata, ets + 2000, self.ts(ets + 2000))
        )

    def session(self, user, start):
        """The events of one session starting at `start` (ms), as (ets, line) in order."""
        r = self.r
        s = user
        s["sid"] = self.mid()
        s["env"] = r.choice(ENVS)
        out = []
        t = start
        out.append((t, self.event("START", t, s, '{"type":"app","mode":"","duration":0,"pageid":"home"}')))
        pages = max(1, int(r.expovariate(1 / 5)))
        played = False
        for _ in range(pages):
            t += r.randint(1000, 20000)
            page = r.choice(PAGES)
            out.append((t, self.event("IMPRESSION", t, s,
                                      '{"type":"view","subtype":"","pageid":"%s","uri":"/app/%s","duration":%.2f,"visits":[]}'
                                      % (page, page, r.uniform(0.2, 5)))))
            for _ in range(r.randint(0, 4)):
                t += r.randint(500, 30000)
                out.append((t, self.event("INTERACT", t, s,
                                          '{"type":"CLICK","subtype":"","id":"%s","pageid":"%s","extra":{"pos":[]}}'
                                          % (r.choice(WIDGETS), page))))
            if r.random() < 0.06:  # a log, an audit or a search, excluded by the model
                t += r.randint(100, 2000)
                eid = r.choice(["LOG", "AUDIT", "SEARCH"])
                out.append((t, self.event(eid, t, s, '{"type":"api_access","level":"INFO","message":"","params":[]}')))
            if r.random() < 0.02:  # idle past the 10-minute idle time
                t += r.randint(11 * 60000, 25 * 60000)
            if not played and r.random() < 0.25:
                played = True
                course = r.choice(self.courses)
                obj = '{"id":"%s","type":"Course","ver":"3","rollup":{"l1":"%s"}}' % (course, course)
                t += r.randint(1000, 5000)
                p0 = t
                out.append((t, self.event("START", t, s, '{"type":"content","mode":"play","duration":0,"pageid":"toc"}',
                                          obj, "learn")))
                for _ in range(r.randint(2, 12)):
                    t += r.randint(5000, 120000)
                    out.append((t, self.event("INTERACT", t, s,
                                              '{"type":"TOUCH","subtype":"","id":"next","pageid":"player","extra":{"pos":[]}}',
                                              obj, "learn")))
                t += r.randint(1000, 60000)
                out.append((t, self.event("END", t, s,
                                          '{"type":"content","mode":"play","duration":%d,"pageid":"player","summary":[{"progress":%d}]}'
                                          % ((t - p0) // 1000, r.randint(1, 100)), obj, "learn")))
        if r.random() < 0.03:  # back after a break longer than the 30-minute session gap
            t += r.randint(31 * 60000, 90 * 60000)
            out.append((t, self.event("IMPRESSION", t, s,
                                      '{"type":"view","subtype":"","pageid":"home","uri":"/app/home","duration":1.0,"visits":[]}')))
        if r.random() < 0.8:
            t += r.randint(1000, 10000)
            out.append((t, self.event("END", t, s,
                                      '{"type":"app","mode":"","duration":%d,"pageid":"home"}' % ((t - start) // 1000))))
        return out

    def users(self):
        """Users, each with a device, an MDO channel and a producer."""
        r = self.r
        pw = [p for _, p in PDATA]
        for _ in range(self.n_users):
            yield {
                "uid": self.uid()[:8] + "-" + self.mid()[9:],
                "did": "%040x" % r.getrandbits(160),
                "channel": self.channels[min(int(r.paretovariate(1.2)) - 1, len(self.channels) - 1)],
                "pdata": r.choices([p for p, _ in PDATA], weights=pw)[0],
            }

    def start_time(self):
        """A session start in the day, busier in Indian working hours (03:30-12:30 UTC)."""
        r = self.r
        if r.random() < 0.7:
            h = r.uniform(3.5, 12.5)
        else:
            h = r.uniform(0, 23.0)
        return self.day0 + int(h * 3600_000)


class Writer:
    """Backup files as `pipec run` rolls them: at `roll_bytes`, or `roll_ms` after the
    file's first event (event time here), each written hidden and renamed when complete."""

    def __init__(self, folder, roll_bytes, roll_ms):
        self.folder = folder
        self.roll_bytes = roll_bytes
        self.roll_ms = roll_ms
        self.f = None
        self.seq = 0
        self.bytes = 0
        self.first = 0
        os.makedirs(folder, exist_ok=True)

    def write(self, ets, line):
        if self.f is not None and (self.bytes >= self.roll_bytes or ets - self.first >= self.roll_ms):
            self.close()
        if self.f is None:
            name = "part-bench-%d-%06d.ndjson" % (ets, self.seq)
            self.tmp = os.path.join(self.folder, "." + name + ".open")
            self.final = os.path.join(self.folder, name)
            self.f = open(self.tmp, "w", buffering=1 << 20)
            self.seq += 1
            self.bytes = 0
            self.first = ets
        self.f.write(line)
        self.f.write("\n")
        self.bytes += len(line) + 1

    def close(self):
        if self.f is not None:
            self.f.close()
            os.replace(self.tmp, self.final)
            self.f = None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--date", default="2024-06-14")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--roll-mib", type=int, default=128)
    ap.add_argument("--roll-minutes", type=int, default=15)
    ap.add_argument("--channels", type=int, default=400)
    ap.add_argument("--courses", type=int, default=3000)
    a = ap.parse_args()
    t0 = time.time()
    # ~21.5 events a session, ~1.67 sessions a user: users for a little more than EVENTS
    # events over the whole day (the day's last minutes are cut at EVENTS).
    g = Gen(a.seed, a.date, max(1, int(a.events / 21.5 / 1.67)), a.channels, a.courses)
    folder = os.path.join(a.data_dir, "backups", "telemetry.unique", a.date)
    if os.path.isdir(folder):
        for f in os.listdir(folder):
            os.remove(os.path.join(folder, f))
    # Session starts, in time order; events merged through a heap so that the files are in
    # time order with sessions interleaved.
    users = list(g.users())
    starts = []
    for u in users:
        for _ in range(g.r.choice([1, 1, 1, 2, 2, 3])):
            starts.append((g.start_time(), len(starts), u))
    starts.sort(key=lambda x: (x[0], x[1]))
    w = Writer(folder, a.roll_mib << 20, a.roll_minutes * 60_000)
    end_of_day = g.day0 + 86400_000 - 1
    heap = []
    written = 0
    i = 0
    seq = 0
    while written < a.events:
        if i < len(starts):
            st, _, u = starts[i]
            i += 1
            while heap and heap[0][0] <= st and written < a.events:
                ets, _, line = heapq.heappop(heap)
                w.write(ets, line)
                written += 1
            for ets, line in g.session(dict(u), st):
                if ets <= end_of_day:
                    heapq.heappush(heap, (ets, seq, line))
                    seq += 1
        elif heap:
            ets, _, line = heapq.heappop(heap)
            w.write(ets, line)
            written += 1
        else:
            # Out of sessions before enough events: another round of sessions.
            for u in users:
                starts.append((g.start_time(), len(starts), u))
            starts[i:] = sorted(starts[i:], key=lambda x: (x[0], x[1]))
    w.close()
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"{written:,} events, {w.seq} files, {size / 2**20:,.0f} MiB in {folder} "
          f"({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
