#!/usr/bin/env python3
"""Runs a command under `/usr/bin/time -v` and also samples the resident memory of its
whole process tree (every 100 ms, summing VmRSS over the descendants) -- for PySpark, whose
JVM is a child of the Python driver. Prints one line:

    LABEL wall=12.3s rss_time=456MiB rss_tree=789MiB rc=0

`rss_time` is what `time -v` reports (the largest single process it reaped); `rss_tree` the
peak sum over the tree. The command's output goes to LOG.

    python3 scripts/bench/measure.py LABEL LOG -- CMD ARGS...
"""
import os
import re
import subprocess
import sys
import time


def children():
    kids = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(pid))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(root):
    kids = children()
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        total += rss_kib(p)
        stack.extend(kids.get(p, []))
    return total


def main():
    label, log = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    with open(log, "w") as out:
        t0 = time.time()
        p = subprocess.Popen(["/usr/bin/time", "-v"] + cmd, stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        while p.poll() is None:
            peak = max(peak, tree_rss(p.pid))
            time.sleep(0.1)
        wall = time.time() - t0
    text = open(log).read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    w = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    rss_time = int(m.group(1)) if m else 0
    if w:
        parts = [float(x) for x in w.group(1).split(":")]
        wall = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    print(f"{label} wall={wall:.1f}s rss_time={rss_time // 1024}MiB rss_tree={peak // 1024}MiB "
          f"rc={p.returncode}", flush=True)


if __name__ == "__main__":
    main()
