"""Where a benchmark run's seconds go: every skopeo child's start, first byte, last byte and exit.

A measurement aid for scripts/bench.py, not part of skomirror. `install()` runs inside the
measured skomirror process (bench.py's in-process wrapper, when SKOMIRROR_BENCH_TIMELINE names a
file): it notes when each child starts and exits, samples its /proc/<pid>/io every SAMPLE seconds,
and times the run's stages (imports, survey, the destination-blob probe, the copies). `summary()`
reads that record with the link's own byte counts (sampled by bench.py) and says where time went.

"First byte" is the first sample at which the child has read FIRST_BYTE bytes more than it had
when first seen (start-up files, the ping and manifests stay under it); "last byte" the last
sample at which its read counter moved. Both are late by up to one sample.
"""

import json
import os
import statistics
import threading
import time
from typing import Dict, List, Optional, Tuple

SAMPLE = 0.02
FIRST_BYTE = 64 * 1024


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _counters(pid: int) -> Optional[Tuple[int, int]]:
    try:
        with open(f"/proc/{pid}/io") as handle:
            fields = dict(line.split(": ") for line in handle.read().splitlines())
        return int(fields["rchar"]), int(fields["wchar"])
    except (OSError, KeyError, ValueError):
        return None


class Recorder:
    def __init__(self, path: str, started: float):
        self.path = path
        self.stages: Dict[str, List[float]] = {"process": [started]}
        self.stage_cpu: Dict[str, float] = {}  # this process's CPU-seconds inside each stage
        self.children: List[dict] = []
        self._live: Dict[int, dict] = {}
        self._local = threading.local()
        self._lock = threading.Lock()
        self.cpu_at_imports = 0.0

    def imports_done(self) -> None:
        self.stages["imports"] = [self.stages["process"][0], time.time()]
        self.cpu_at_imports = _own_cpu()

    def stage(self, name: str):
        recorder = self

        class Timed:
            def __enter__(self):
                recorder.stages.setdefault(name, []).append(time.time())
                self.cpu = _own_cpu()

            def __exit__(self, *exc):
                recorder.stages[name].append(time.time())
                recorder.stage_cpu[name] = recorder.stage_cpu.get(name, 0.0) + _own_cpu() - self.cpu

        return Timed()

    def spawned(self, pid: int) -> None:
        entry = getattr(self._local, "entry", None)
        if entry is not None and "pid" not in entry:
            entry["pid"] = pid
            with self._lock:
                self._live[pid] = entry

    def _sample(self) -> None:
        while True:
            time.sleep(SAMPLE)
            now = time.time()
            with self._lock:
                live = list(self._live.items())
            for pid, entry in live:
                counters = _counters(pid)
                if counters is None:
                    continue
                read, written = counters
                if "read0" not in entry:
                    entry["read0"] = read
                if read - entry["read0"] > FIRST_BYTE and "first_byte" not in entry:
                    entry["first_byte"] = now
                if read != entry.get("read"):
                    entry["last_byte"] = now
                entry["read"], entry["written"] = read, written

    def wrap_child_run(self, original):
        recorder = self

        def run(children, command, log_path, label, capture_stdout=False, tag=None, **more):
            entry = {"label": label, "log": os.path.basename(str(log_path)), "start": time.time()}
            recorder._local.entry = entry
            try:
                return original(children, command, log_path, label, capture_stdout, tag, **more)
            finally:
                entry["exit"] = time.time()
                recorder._local.entry = None
                with recorder._lock:
                    recorder._live.pop(entry.get("pid"), None)
                    recorder.children.append(entry)

        return run

    def write(self) -> None:
        with open(self.path, "w") as handle:
            json.dump({"stages": self.stages, "children": self.children, "stage_cpu": self.stage_cpu,
                       "cpu_at_imports": self.cpu_at_imports}, handle)


def install(path: str, started: float) -> Recorder:
    """Hook the recorder into skomirror (imported here, so imports are timed by the caller)."""
    import subprocess

    from skomirror import run
    from skomirror.execution import executor
    from skomirror.skopeo import processes

    recorder = Recorder(path, started)
    processes.ChildProcesses.run = recorder.wrap_child_run(processes.ChildProcesses.run)
    popen_init = subprocess.Popen.__init__

    def init(self, *args, **kwargs):
        popen_init(self, *args, **kwargs)
        recorder.spawned(self.pid)

    subprocess.Popen.__init__ = init

    def timed(original, stage):
        def call(*args, **kwargs):
            with recorder.stage(stage):
                return original(*args, **kwargs)
        return call

    for owner, name, stage in ((executor.Executor, "survey_all", "survey"),
                               (executor.Executor, "blobs_present", "blob probe"),
                               (executor.Executor, "copy_all", "copies"), (run, "load_config", "ISC"),
                               (run.Run, "collect", "collect"), (run, "make_plan", "plan"),
                               (run, "dry_run_report", "dry-run report"), (run.Run, "write_results", "results")):
        setattr(owner, name, timed(getattr(owner, name), stage))
    threading.Thread(target=recorder._sample, name="bench-timeline", daemon=True).start()
    return recorder


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_time() -> Tuple[float, float, float]:
    """CPU-seconds over every core since boot: busy (every process on the machine), stolen (the hypervisor ran
    other guests on our cores: steal) and in all. A slowed host shows as steal, which busy leaves out."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(values[:8])  # user .. steal; guest and guest_nice are inside user and nice already
    idle, steal = values[3] + values[4], values[7] if len(values) > 7 else 0
    return (total - idle - steal) / tick, steal / tick, total / tick


class CpuAccount:
    """CPU-seconds of the rig's processes over one measured run, next to the whole machine's."""

    def __init__(self, pids: Dict[str, int]):
        import resource
        self._resource = resource
        self.pids = pids
        self._start = {name: _process_cpu(pid) for name, pid in pids.items()}
        self._self, self._children = self._own()
        self._machine = _machine_time()

    def _own(self) -> Tuple[float, float]:
        me = self._resource.getrusage(self._resource.RUSAGE_SELF)
        children = self._resource.getrusage(self._resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime

    def split(self, measured: Optional[dict] = None) -> Dict[str, float]:
        """measured: skomirror's own figures, to tell it from its skopeo children; else the tool's CPU is one sum
        (the tool and every process under it, once reaped)."""
        busy, stolen, total = _machine_time()
        me, children = self._own()
        split = {name: _process_cpu(pid) - self._start[name] for name, pid in self.pids.items()}
        split["WAN emulator and bench"] = me - self._self
        if measured:
            split["skomirror"] = measured["cpu_self"]
            split["skopeo"] = measured["cpu_children"]
        else:
            split["tool and its skopeo"] = children - self._children
        split["machine busy"] = busy - self._machine[0]
        split["machine stolen"] = stolen - self._machine[1]
        split["machine capacity"] = total - self._machine[2]
        return split


# --- reading it back ---

def _link_busy(link: List[Tuple[float, int]], start: float, end: float, rate: float) -> Tuple[float, float]:
    """Seconds of [start, end] at >= 90 % of the link's rate, and the bytes moved in it."""
    busy, moved = 0.0, 0
    for (t0, b0), (t1, b1) in zip(link, link[1:]):
        if t1 <= start or t0 >= end or t1 <= t0:
            continue
        moved += b1 - b0
        if (b1 - b0) / (t1 - t0) >= 0.9 * rate:
            busy += t1 - t0
    return busy, moved


def _median(values: List[float]) -> float:
    return statistics.median(values) if values else 0.0


def summary(record: dict, link: List[Tuple[float, int]], rate: float, finished: float) -> dict:
    """Where the wall time went, in seconds from the process's start."""
    stages, children = record["stages"], record["children"]
    t0 = stages["process"][0]
    copies = [c for c in children if c["label"].startswith("copy attempt")]
    copy_start, copy_end = stages["copies"][0], stages["copies"][-1]
    with_bytes = [c for c in copies if "first_byte" in c]
    busy, moved = _link_busy(link, copy_start, copy_end, rate)
    # copies in flight over time, from their starts and exits
    events = sorted([(c["start"], 1) for c in copies] + [(c["exit"], -1) for c in copies])
    running, last, area, peak = 0, copy_start, 0.0, 0
    for when, step in events:
        area += running * (when - last)
        running, last = running + step, when
        peak = max(peak, running)
    total = moved or 1
    ninety = next((t for t, b in link if b - link[0][1] >= 0.9 * (link[-1][1] - link[0][1])), copy_end)
    return {
        "stage_cpu": dict(record.get("stage_cpu", {}), imports=record.get("cpu_at_imports", 0.0)),
        "wall": finished - t0,
        "to_imports_done": stages["imports"][-1] - t0,
        "survey": [stages["survey"][0] - t0, stages["survey"][-1] - t0],
        "blob_probe": [stages.get("blob probe", [0, 0])[0] - t0, stages.get("blob probe", [0, 0])[-1] - t0],
        "copies": [copy_start - t0, copy_end - t0],
        "after_copies": finished - copy_end,
        "copy_count": len(copies),
        "in_flight_mean": area / max(copy_end - copy_start, 1e-9),
        "in_flight_peak": peak,
        "link_busy_s": busy,
        "link_mb_during_copies": total / 1e6,
        "link_90pct_at": ninety - t0,
        "median_start_to_first_byte": _median([c["first_byte"] - c["start"] for c in with_bytes]),
        "median_transfer": _median([c["last_byte"] - c["first_byte"] for c in with_bytes]),
        "median_last_byte_to_exit": _median([c["exit"] - c["last_byte"] for c in with_bytes]),
        "median_copy_without_bytes": _median([c["exit"] - c["start"] for c in copies if "first_byte" not in c]),
        "copy_seconds": sum(c["exit"] - c["start"] for c in copies),
        "seconds_before_first_byte": sum(c.get("first_byte", c["exit"]) - c["start"] for c in copies),
        "seconds_after_last_byte": sum(c["exit"] - c["last_byte"] for c in with_bytes),
    }


def describe(result: dict) -> List[str]:
    s = result
    return [
        f"wall {s['wall']:.1f} s; imports done at {s['to_imports_done']:.2f} s; survey {s['survey'][0]:.2f}-"
        f"{s['survey'][1]:.2f} s; blob probe {s['blob_probe'][0]:.2f}-{s['blob_probe'][1]:.2f} s; copies "
        f"{s['copies'][0]:.2f}-{s['copies'][1]:.2f} s; after the copies {s['after_copies']:.2f} s",
        f"{s['copy_count']} copies, {s['in_flight_mean']:.1f} in flight on average (peak {s['in_flight_peak']}); "
        f"the link at >= 90 % for {s['link_busy_s']:.1f} s of the copies' {s['copies'][1] - s['copies'][0]:.1f} s; "
        f"90 % of the bytes through at {s['link_90pct_at']:.1f} s",
        f"per copy (median): start to first byte {s['median_start_to_first_byte']:.2f} s, transfer "
        f"{s['median_transfer']:.2f} s, last byte to exit {s['median_last_byte_to_exit']:.2f} s; a copy that moved "
        f"no blob {s['median_copy_without_bytes']:.2f} s",
        f"copy-seconds {s['copy_seconds']:.0f}: {s['seconds_before_first_byte']:.0f} before the first byte, "
        f"{s['seconds_after_last_byte']:.0f} after the last",
        "skomirror CPU by stage: " + ", ".join(f"{k} {v:.2f} s" for k, v in s["stage_cpu"].items()),
    ]


class AllThreadsProfile:
    """cProfile over the main thread and every thread started after it (the survey's and the copies'
    workers): one profiler per thread, merged when dumped, counting each thread's CPU time (time.thread_time),
    not its waits. Profiling costs CPU itself: use it to rank, not to time."""

    def __init__(self):
        import cProfile
        self._profiles = []
        self._lock = threading.Lock()
        original = threading.Thread.run
        profiles, lock = self._profiles, self._lock

        def run(thread):
            profile = cProfile.Profile(time.thread_time)
            with lock:
                profiles.append(profile)
            profile.enable()
            try:
                original(thread)
            finally:
                profile.disable()

        threading.Thread.run = run
        self._main = cProfile.Profile(time.thread_time)
        self._profiles.append(self._main)
        self._main.enable()

    def dump(self, path: str) -> None:
        import pstats
        self._main.disable()
        with self._lock:
            profiles = list(self._profiles)
        stats = None
        for profile in profiles:
            try:
                profile.create_stats()
            except Exception:  # a thread still running: its profile is left out
                continue
            stats = pstats.Stats(profile) if stats is None else stats.add(profile)
        stats.dump_stats(path)
