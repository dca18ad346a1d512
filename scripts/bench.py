#!/usr/bin/env python3
"""Benchmarks, not tests: run by hand, results recorded in BENCHMARKS.md.

  scripts/bench.py compare [--profile quick|default] [--write]
      skomirror, `skopeo sync`, a sequential `skopeo copy` loop and `xargs -P 8 skopeo copy`,
      side by side on one OpenShift-shaped image set, through an emulated WAN
  scripts/bench.py memory [--images 1000,5000,10000] [--write]
      skomirror's own peak memory and the time of each stage of a --dry-run over many references
  scripts/bench.py plan-scale [--images 1000,5000,10000,20000]
      the plan alone (ISC read, collected, planned, mapping.txt), in-process, at several sizes
  scripts/bench.py timeline [--profile release] [--variant "OPTIONS"]... [--rounds N] [--out PREFIX]
      cold skomirror runs with every copy's start, first byte, last byte and exit, the link and the CPU of
      each rig process: where the seconds go
  scripts/bench.py survey [--profile release] [--variant "OPTIONS"]... [--rounds 3]
      a first run's survey alone (--dry-run into an empty destination), with the destination's requests
  scripts/bench.py rerun [--profile release] [--rounds 3] [--cprofile FILE]
      a cold skomirror run, then no-op reruns with their stages timed (and the last one profiled)
  scripts/bench.py parallel-images [--profile quick|default] [--values 1,2,4,8,12,16] [--write]
      skomirror's wall time for several --parallel-images

Everything runs on 127.0.0.1: docker-registry instances, the source behind the WAN
emulator (testkit.wanproxy; scripts/wanproxy.py runs it on its own). Each
tool gets a fresh destination registry and an emptied skopeo blob-info cache. Figures
are measured side by side in one run; the machines are shared and noisy, so compare
within a table, not across tables.
"""

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))  # the test kit (tests/testkit) is not part of the installed package
VENV = Path(os.environ.get("SKOMIRROR_VENV", PROJECT / ".venv"))
if Path(sys.prefix).resolve() != VENV.resolve():
    # skomirror's dependencies live in the venv that scripts/test.sh prepares: run there.
    if not (VENV / "bin" / "python").exists():
        raise SystemExit(f"no virtualenv at {VENV}: run scripts/test.sh once to prepare it, then this again")
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), *sys.argv])

from skomirror.imageref import ImageRef  # noqa: E402
from testkit.images import make_layer, simple_image  # noqa: E402
from testkit.isc import write_isc  # noqa: E402
from testkit.registry import Registry  # noqa: E402
from testkit.wanproxy import WanProxy  # noqa: E402
from skomirror.workflows.options import DEFAULT_PARALLEL_IMAGES  # noqa: E402
from skomirror.workspace import Workspace  # noqa: E402

MB = 1_000_000
# RTT 40 ms, 10 MB/s per connection, 50 MB/s in all: a fair WAN link to a remote registry.
WAN = dict(latency=0.020, connection_rate=10 * MB, total_rate=50 * MB)  # latency: one way
SKOPEO = ["skopeo", "--insecure-policy"]
COPY_FLAGS = ["--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false"]

# An OpenShift-shaped set, scaled down: release components in one repository on shared bases,
# operator images in repositories of their own, a few large single-layer images.
OWN_LAYERS = (1, 5)  # how many own layers a release component has, at least and at most
MEMORY_REPOSITORIES = 50  # the memory benchmark spreads its references over this many repositories
PROFILES = {
    "quick": dict(components=190, bases=(12 * MB, 8 * MB, 4 * MB), own=(50_000, 600_000), operators=30,
                  operator_base=4 * MB, operator_own=(200_000, 100_000), large=(3, 12 * MB)),
    "default": dict(components=190, bases=(80 * MB, 50 * MB, 20 * MB), own=(500_000, 8 * MB), operators=30,
                    operator_base=20 * MB, operator_own=(2 * MB, 1 * MB), large=(3, 80 * MB)),
}
# A release as OpenShift ships one: most bytes in many small images. Every component sits on one
# shared OS layer and one of a few shared middle layers, with 1-2 own layers of its own; each operator
# has its image (on a shared operator base) and a tiny bundle, each in a repository of its own.
RELEASE = dict(components=200, os_layer=30 * MB, middles=(12 * MB, 8 * MB, 4 * MB), own_layers=(1, 2),
               own=(500_000, 5 * MB), operators=30, operator_base=10 * MB, operator_own=(1 * MB, 3 * MB),
               bundle=20_000, extras=(4, 10 * MB))
PROFILES["release"] = RELEASE


@dataclass
class ImageSet:
    references: List[str] = field(default_factory=list)  # without registry host
    sync_yaml: Dict[str, List[str]] = field(default_factory=dict)  # repository -> tags or digests


def seed_openshift_shaped(source: Registry, profile: dict) -> ImageSet:
    images = ImageSet()

    def add(repository: str, tag: str, image, by_digest: bool) -> None:
        digest = source.push(repository, tag, image)
        reference = f"{repository}@{digest}" if by_digest else f"{repository}:{tag}"
        images.references.append(reference)
        images.sync_yaml.setdefault(repository, []).append(digest if by_digest else tag)

    bases = [[make_layer(f"bench/base-{i}", size)] for i, size in enumerate(profile["bases"])]
    low, high = profile["own"]
    for i in range(profile["components"]):
        rng = random.Random(f"component-{i}")
        sizes = [rng.randint(low, high) for _ in range(rng.randint(*OWN_LAYERS))]
        add("openshift-release-dev/ocp-v4.0-art-dev", f"component-{i}",
            simple_image(f"bench/component-{i}", sizes, base=bases[i % len(bases)]), by_digest=True)
    operator_base = [make_layer("bench/operator-base", profile["operator_base"])]
    for i in range(profile["operators"]):
        add(f"operators/operator-{i}", "v1", simple_image(f"bench/operator-{i}", profile["operator_own"],
                                                         base=operator_base), by_digest=True)
    count, size = profile["large"]
    for i in range(count):
        add(f"large/image-{i}", "latest", simple_image(f"bench/large-{i}", (size,)), by_digest=False)
    return images


def seed_release_shaped(source: Registry, profile: dict) -> ImageSet:
    images = ImageSet()

    def add(repository: str, tag: str, image, by_digest: bool = True) -> None:
        digest = source.push(repository, tag, image)
        images.references.append(f"{repository}@{digest}" if by_digest else f"{repository}:{tag}")
        images.sync_yaml.setdefault(repository, []).append(digest if by_digest else tag)

    os_layer = make_layer("release/os", profile["os_layer"])
    middles = [make_layer(f"release/middle-{i}", size) for i, size in enumerate(profile["middles"])]
    low, high = profile["own"]
    for i in range(profile["components"]):
        rng = random.Random(f"release-component-{i}")
        sizes = [rng.randint(low, high) for _ in range(rng.randint(*profile["own_layers"]))]
        add("openshift-release-dev/ocp-v4.0-art-dev", f"component-{i}",
            simple_image(f"release/component-{i}", sizes, base=[os_layer, middles[i % len(middles)]]))
    operator_base = [make_layer("release/operator-base", profile["operator_base"])]
    low, high = profile["operator_own"]
    for i in range(profile["operators"]):
        rng = random.Random(f"release-operator-{i}")
        add(f"operators/operator-{i}", "v1", simple_image(f"release/operator-{i}", (rng.randint(low, high),),
                                                         base=operator_base))
        add(f"operators/operator-{i}-bundle", "v1", simple_image(f"release/bundle-{i}", (profile["bundle"],)))
    count, size = profile["extras"]
    for i in range(count):
        add(f"extras/image-{i}", "latest", simple_image(f"release/extra-{i}", (size,)), by_digest=False)
    return images


def seed(source: Registry, profile_name: str) -> ImageSet:
    profile = PROFILES[profile_name]
    return (seed_release_shaped if profile is RELEASE else seed_openshift_shaped)(source, profile)


def unique_bytes(source: Registry) -> int:
    blobs = source.storage / "docker" / "registry" / "v2" / "blobs"
    return sum(path.stat().st_size for path in blobs.rglob("data"))


def isolated_env(scratch: Path) -> Dict[str, str]:
    """A private HOME, and an empty skopeo blob-info cache: no tool inherits what another learned.

    As root, skopeo keeps that cache in /var/lib/containers/cache whatever HOME says, so its
    files (a cache only: locations of blobs seen before) are deleted there.
    """
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        for cache in Path("/var/lib/containers/cache").glob("blob-info-cache-v1.*"):
            cache.unlink()
    return dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"),
                PYTHONPATH=str(PROJECT))


# Runs the CLI in-process so its own CPU and memory can be told apart from its skopeo children's;
# with SKOMIRROR_BENCH_TIMELINE set, scripts/bench_timeline.py records every child and stage too.
MEASURED = ("import json, os, resource, sys, time\n"
            "sys.path.remove('')  # -c puts the current directory first: PYTHONPATH says which skomirror is measured\n"
            "timeline = os.environ.get('SKOMIRROR_BENCH_TIMELINE')\n"
            "if timeline:\n"
            f"    sys.path.insert(0, {str(PROJECT / 'scripts')!r})\n"
            "    import bench_timeline\n"
            "    recorder = bench_timeline.install(timeline, float(os.environ['SKOMIRROR_BENCH_LAUNCHED']))\n"
            "from skomirror.cli import main\n"
            "if timeline:\n    recorder.imports_done()\n"
            "profiled = os.environ.get('SKOMIRROR_BENCH_PROFILE')\n"
            "if profiled:\n"
            f"    sys.path.insert(0, {str(PROJECT / 'scripts')!r})\n"
            "    import bench_timeline\n"
            "    profiler = bench_timeline.AllThreadsProfile()\n"
            "sys.argv = ['skomirror'] + sys.argv[1:]\n"
            "start = time.monotonic()\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "if timeline:\n    recorder.write()\n"
            "if profiled:\n    profiler.dump(profiled)\n"
            "me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "# VmHWM, the peak resident set of this process alone: ru_maxrss also counts a forked child's\n"
            "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
            "print('MEASURED ' + json.dumps({'code': code, 'seconds': time.monotonic() - start,\n"
            "    'cpu_self': me.ru_utime + me.ru_stime, 'cpu_children': kids.ru_utime + kids.ru_stime,\n"
            "    'peak_rss_mb': hwm / 1024}), file=sys.stderr)\n")


def measured_skomirror(args: List[str], env: Dict[str, str]) -> dict:
    env = dict(env, SKOMIRROR_BENCH_LAUNCHED=repr(time.time()))
    launched = time.monotonic()
    result = subprocess.run([sys.executable, "-c", MEASURED, "run", "--src-tls-verify=false",
                             "--dest-tls-verify=false", *args], env=env, capture_output=True, text=True)
    whole = time.monotonic() - launched
    line = next((line for line in result.stderr.splitlines() if line.startswith("MEASURED ")), None)
    if line is None:
        raise SystemExit(f"skomirror did not finish:\n{result.stdout}\n{result.stderr}")
    measured = json.loads(line[len("MEASURED "):])
    # "seconds": the command in main(), after Python's start-up and imports; "whole": the process from its launch
    # to its exit (start-up, imports and teardown included), as the other tools are timed
    measured["whole"] = whole
    if measured["code"] not in (0, None):
        raise SystemExit(f"skomirror failed ({measured['code']}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return measured


def timed(command: List[str], env: Dict[str, str], stdin: Optional[str] = None) -> Tuple[float, int]:
    start = time.monotonic()
    result = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True)
    return time.monotonic() - start, result.returncode


def mapping_pairs(workspace: Path) -> List[Tuple[str, str]]:
    return [tuple(line.split("=", 1)) for line in Workspace(workspace).mapping.read_text().splitlines()]


def retarget(pairs: List[Tuple[str, str]], host: str) -> List[Tuple[str, str]]:
    """The same mapping onto another destination registry."""
    return [(source, replace(ImageRef.parse(target), registry=host).transport_spec) for source, target in pairs]


def count_missing(destination: Registry, pairs: List[Tuple[str, str]]) -> int:
    missing = 0
    for _, target in pairs:
        reference = ImageRef.parse(target)
        missing += destination.manifest_digest(reference.path, reference.tag) is None
    return missing


def count_missing_synced(destination: Registry, prefix: str, references: List[str]) -> int:
    """skopeo sync (without --scoped) puts repository a/b/c under PREFIX/c, by tag or by digest as listed."""
    missing = 0
    for text in references:
        reference = ImageRef.parse(f"{destination.host}/{text}")  # only its path, tag and digest are used
        missing += destination.manifest_digest(f"{prefix}/{reference.path.rsplit('/', 1)[-1]}",
                                               reference.digest or reference.tag) is None
    return missing


@dataclass
class Bench:
    """A seeded source behind the WAN emulator, and an ISC listing its images through it."""
    scratch: Path
    images: ImageSet
    unique: int  # bytes in the source's blob store
    proxy: WanProxy
    isc: Path
    source: Registry

    @property
    def link_limit(self) -> float:
        """Seconds to move every unique byte once at the link's full rate."""
        return self.unique / WAN["total_rate"]

    def fresh_destination(self, name: str) -> Registry:
        """An empty destination registry (to use in `with`), the link's counters zeroed."""
        self.proxy.reset_counters()
        return Registry(self.scratch / f"dest-{name}")


@contextmanager
def seeded_bench(profile_name: str) -> Iterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="skomirror-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        with Registry(scratch / "source") as source:
            started = time.monotonic()
            images = seed(source, profile_name)
            print(f"seeded {len(images.references)} images in {time.monotonic() - started:.0f}s", flush=True)
            unique = unique_bytes(source)
            with WanProxy(source.port, **WAN) as proxy:
                isc = write_isc(scratch / "isc.yaml", [f"{proxy.host}/{reference}" for reference in images.references])
                yield Bench(scratch, images, unique, proxy, isc, source)


def bench_compare(profile_name: str) -> dict:
    import bench_timeline
    rows: Dict[str, dict] = {}

    def account(destination: Registry):
        return bench_timeline.CpuAccount({"source registry": bench.source.process.pid,
                                          "destination registry": destination.process.pid})

    with seeded_bench(profile_name) as bench:
        scratch, proxy, images = bench.scratch, bench.proxy, bench.images
        sync_yaml = scratch / "sync.yaml"
        sync_yaml.write_text(json.dumps({proxy.host: {"tls-verify": False, "images": images.sync_yaml}}))

        with bench.fresh_destination("skomirror") as destination:
            env = isolated_env(scratch)
            skomirror_args = ["--workspace", str(scratch / "ws"), str(bench.isc), f"docker://{destination.host}/mirror"]
            cpu = account(destination)
            cold = measured_skomirror(skomirror_args, env)
            cold_cpu = cpu.split()
            pulled = proxy.counters.bytes_down
            proxy.reset_counters()
            noop = measured_skomirror(skomirror_args, env)
            pairs = mapping_pairs(scratch / "ws")
            rows["skomirror"] = dict(seconds=cold["whole"], pulled=pulled, cpu=cold_cpu,
                                     missing=count_missing(destination, pairs), cold=cold, noop=noop)
            print("skomirror", json.dumps(rows["skomirror"]), flush=True)
        with bench.fresh_destination("sync") as destination:
            cpu = account(destination)
            seconds, code = timed(SKOPEO + ["sync", "--src", "yaml", "--dest", "docker", "--all",
                                            "--preserve-digests", "--dest-tls-verify=false", str(sync_yaml),
                                            f"{destination.host}/mirror"], isolated_env(scratch))
            rows["skopeo sync"] = dict(seconds=seconds, pulled=proxy.counters.bytes_down, exit=code, cpu=cpu.split(),
                                       missing=count_missing_synced(destination, "mirror", images.references))
            print("sync", json.dumps(rows["skopeo sync"]), flush=True)
        for name, parallel in (("sequential skopeo copy", 1), ("xargs -P 8 skopeo copy", 8)):
            with bench.fresh_destination(name.split()[0]) as destination:
                targets = retarget(pairs, destination.host)
                cpu = account(destination)
                seconds, code = timed(["xargs", "-P", str(parallel), "-L", "1"] + SKOPEO + ["copy"] + COPY_FLAGS,
                                      isolated_env(scratch), stdin="".join(f"{src} {dst}\n" for src, dst in targets))
                rows[name] = dict(seconds=seconds, pulled=proxy.counters.bytes_down, exit=code, cpu=cpu.split(),
                                  missing=count_missing(destination, targets))
                print(name, json.dumps(rows[name]), flush=True)
    return {"profile": profile_name, "images": len(images.references), "unique": bench.unique,
            "link_limit": bench.link_limit, "rows": rows}


def bench_memory(counts: List[int]) -> List[dict]:
    """Dry runs over the first COUNT of one seeded set of references, each stage timed (scripts/bench_timeline.py)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="skomirror-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        with Registry(scratch / "source") as source, Registry(scratch / "dest") as destination:
            layer = make_layer("bench/tiny", 200)
            references = []
            started = time.monotonic()
            for i in range(max(counts)):
                repository = f"many/repo{i % MEMORY_REPOSITORIES}"
                image = simple_image(f"bench/tiny-{i}", (), base=[layer])
                references.append(f"{source.host}/{repository}@{source.push(repository, f't{i}', image)}")
            print(f"seeded {len(references)} images in {time.monotonic() - started:.0f}s", flush=True)
            for count in counts:
                isc = write_isc(scratch / f"isc-{count}.yaml", references[:count])
                record_path = scratch / f"timeline-{count}.json"
                env = dict(isolated_env(scratch), SKOMIRROR_BENCH_TIMELINE=str(record_path))
                measured = measured_skomirror(["--dry-run", "--workspace", str(scratch / f"ws-{count}"), str(isc),
                                               f"docker://{destination.host}/mirror"], env)
                stages = json.loads(record_path.read_text())["stages"]
                seconds = {name: round(sum(b - a for a, b in zip(times[::2], times[1::2])), 2)
                           for name, times in stages.items() if name not in ("process", "imports")}
                results.append({"images": count, **measured, "stages": seconds})
                print(json.dumps(results[-1]), flush=True)
    return results


def bench_plan_scale(counts: List[int], rounds: int = 3) -> List[dict]:
    """The plan alone, in this process, through the run's own functions: the ISC read (load_config), its
    images collected (collect) and planned (make_plan), mapping.txt written out (mapping_text); the best of
    `rounds` for each size. References are synthetic (nothing is surveyed), digest-pinned, in 50 repositories."""
    from skomirror.collectors import collect
    from skomirror.config import load_config
    from skomirror.endpoints.registry import RegistryEndpoint
    from skomirror.naming import parse_destination
    from skomirror.outputs import mapping_text
    from skomirror.plan import make_plan
    from skomirror.run import collector_paused

    results = []
    with tempfile.TemporaryDirectory(prefix="skomirror-bench-") as scratch_dir:
        for count in counts:
            references = [f"src.example:5000/many/repo{i % MEMORY_REPOSITORIES}@sha256:{i:064x}" for i in range(count)]
            isc = write_isc(Path(scratch_dir) / f"isc-{count}.yaml", references)
            best: Dict[str, float] = {}
            for _ in range(rounds):
                times = {}
                started = time.perf_counter()
                with collector_paused():  # as Run reads it
                    config = load_config(isc)
                times["ISC"] = time.perf_counter() - started
                started = time.perf_counter()
                images = collect(config).images
                times["collect"] = time.perf_counter() - started
                started = time.perf_counter()
                with collector_paused():  # as Run.mirror plans
                    plan = make_plan(images, RegistryEndpoint(),
                                     RegistryEndpoint(parse_destination("docker://dst.example/m")))
                times["plan"] = time.perf_counter() - started
                started = time.perf_counter()
                mapping_text(plan)
                times["mapping"] = time.perf_counter() - started
                best = {k: min(v, best.get(k, v)) for k, v in times.items()}
            results.append({"images": count, **{k: round(v, 4) for k, v in best.items()}})
            print(json.dumps(results[-1]), flush=True)
    return results


def plan_scale_markdown(results: List[dict], command: str) -> str:
    lines = ["### The plan alone", "", f"Command: `{command}`  ", machine() + "  ",
             "In one process, through the run's own functions (`load_config`, `collect`, `make_plan`, `mapping_text`; "
             "the first and third with Python's cyclic collector paused, as `Run` calls them), "
             f"synthetic digest-pinned references in {MEMORY_REPOSITORIES} repositories, nothing surveyed; the best of 3 "
             "rounds per size.", "",
             "| images | read the ISC (s) | collect (s) | plan (s) | mapping.txt (s) | µs per image, all four |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        total = r["ISC"] + r["collect"] + r["plan"] + r["mapping"]
        lines.append(f"| {r['images']:,} | {r['ISC']:.3f} | {r['collect']:.3f} | {r['plan']:.3f} | {r['mapping']:.3f} | "
                     f"{1e6 * total / r['images']:.0f} |")
    return "\n".join(lines) + "\n"


def bench_parallel_images(profile_name: str, values: List[int]) -> dict:
    rows = []
    with seeded_bench(profile_name) as bench:
        for value in values:
            with bench.fresh_destination(str(value)) as destination:
                measured = measured_skomirror(["--workspace", str(bench.scratch / f"ws-{value}"),
                                               "--parallel-images", str(value), str(bench.isc),
                                               f"docker://{destination.host}/mirror"], isolated_env(bench.scratch))
                rows.append({"parallel_images": value, "seconds": round(measured["seconds"], 1),
                             "x_link_limit": round(measured["seconds"] / bench.link_limit, 2),
                             "pulled_mb": round(bench.proxy.counters.bytes_down / MB, 1)})
                print(json.dumps(rows[-1]), flush=True)
    return {"profile": profile_name, "images": len(bench.images.references), "unique_mb": round(bench.unique / MB, 1),
            "link_limit_s": round(bench.link_limit, 1), "rows": rows}


def split_variant(extra: List[str]) -> Tuple[Dict[str, str], List[str]]:
    """A variant's words: NAME=VALUE for skomirror's environment, the rest its options."""
    settings = dict(word.split("=", 1) for word in extra if "=" in word and not word.startswith("-"))
    return settings, [word for word in extra if "=" not in word or word.startswith("-")]


def destination_requests(destination: Registry, since: int) -> Dict[str, int]:
    """What the destination registry was asked since byte `since` of its log, counted by kind."""
    found = re.findall(r'"(GET|HEAD|PUT|POST|PATCH) /v2/\S*?/(manifests|tags/list|blobs)',
                       destination.log_path.read_text()[since:])
    counts: Dict[str, int] = {}
    for method, kind in found:
        counts[f"{method} {kind}"] = counts.get(f"{method} {kind}", 0) + 1
    return counts


@dataclass
class VariantRun:
    """One variant's run in one round: its own empty destination, record file, workspace and environment."""
    round: int
    name: str  # <round>-<variant's number>
    variant: List[str]
    destination: Registry
    record: Path
    workspace: Path
    env: Dict[str, str]
    options: List[str]  # the variant's skomirror options

    @property
    def label(self) -> str:
        return " ".join(self.variant) or "(defaults)"


def variant_runs(bench: Bench, variants: List[List[str]], rounds: int, kind: str) -> Iterator[VariantRun]:
    """Every variant in every round in turn, each with a fresh destination, open while the caller uses it."""
    for round_number in range(rounds):
        for number, extra in enumerate(variants):
            name = f"{round_number}-{number}"
            with bench.fresh_destination(f"{kind}-{name}") as destination:
                record = bench.scratch / f"{kind}-{name}.json"
                settings, options = split_variant(extra)
                env = dict(isolated_env(bench.scratch), SKOMIRROR_BENCH_TIMELINE=str(record), **settings)
                yield VariantRun(round_number, name, extra, destination, record, bench.scratch / f"ws-{name}", env,
                                 options)


def bench_survey(profile_name: str, variants: List[List[str]], rounds: int) -> None:
    """The survey of a first run alone: `--dry-run` into an empty destination, one per variant and round, side
    by side on one seeded source; the destination's requests counted from its access log."""
    with seeded_bench(profile_name) as bench:
        for run in variant_runs(bench, variants, rounds, "survey"):
            since = len(run.destination.log_path.read_text())
            measured = measured_skomirror(["--workspace", str(run.workspace), "--dry-run", *run.options,
                                           str(bench.isc), f"docker://{run.destination.host}/mirror"], run.env)
            requests = destination_requests(run.destination, since)
            survey = json.loads(run.record.read_text())["stages"].get("survey", [0.0, 0.0])
            print(f"--- {run.label} (round {run.round + 1}): whole {measured['whole']:.2f} s, in main() "
                  f"{measured['seconds']:.2f} s, survey {survey[-1] - survey[0]:.2f} s, own CPU "
                  f"{measured['cpu_self']:.2f} s; destination asked: "
                  + ", ".join(f"{kind} {count}" for kind, count in sorted(requests.items())), flush=True)


def bench_timeline_run(profile_name: str, variants: List[List[str]], out: Optional[Path], rounds: int) -> List[dict]:
    """Cold skomirror runs with every child and stage timed (scripts/bench_timeline.py), one per variant
    (more skomirror options) and round, side by side on one seeded source."""
    import threading
    import bench_timeline
    results = []
    with seeded_bench(profile_name) as bench:
        for run in variant_runs(bench, variants, rounds, "timeline"):
            destination = run.destination
            link: List[Tuple[float, int]] = []
            done = threading.Event()

            def sample_link() -> None:
                while not done.is_set():
                    link.append((time.time(), bench.proxy.counters.bytes_down))
                    done.wait(0.05)

            sampler = threading.Thread(target=sample_link, daemon=True)
            sampler.start()
            cpu = bench_timeline.CpuAccount({"source registry": bench.source.process.pid,
                                             "destination registry": destination.process.pid})
            measured = measured_skomirror(["--workspace", str(run.workspace), *run.options,
                                           str(bench.isc), f"docker://{destination.host}/mirror"], run.env)
            finished = time.time()
            done.set()
            sampler.join()
            cpu_split = cpu.split(measured)
            record = json.loads(run.record.read_text())
            pulled = bench.proxy.counters.bytes_down
            missing = count_missing(destination, mapping_pairs(run.workspace))
            if out:
                Path(f"{out}.{run.name}.json").write_text(json.dumps(
                    {"record": record, "link": link, "measured": measured, "variant": run.variant}))
            result = bench_timeline.summary(record, link, WAN["total_rate"], finished)
            result.update(variant=run.label, link_limit=bench.link_limit,
                          x_link_limit=measured["seconds"] / bench.link_limit, pulled_x_unique=pulled / bench.unique,
                          missing=missing, measured=measured, cpu=cpu_split)
            results.append(result)
            print(f"--- {result['variant']} (round {run.round + 1}): {measured['seconds']:.1f} s = "
                  f"{result['x_link_limit']:.2f} x link limit ({bench.link_limit:.1f} s, "
                  f"{len(bench.images.references)} images, {bench.unique / MB:.0f} MB unique); pulled "
                  f"{result['pulled_x_unique']:.2f} x unique; {missing} missing; own CPU "
                  f"{measured['cpu_self']:.1f} s, children {measured['cpu_children']:.1f} s", flush=True)
            print("    CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu_split.items()), flush=True)
            for line in bench_timeline.describe(result):
                print("    " + line, flush=True)
    return results


def bench_rerun(profile_name: str, rounds: int, profile_out: Optional[Path]) -> None:
    """One cold skomirror run, then no-op reruns (same ISC, destination and workspace), each with its stages
    timed (scripts/bench_timeline.py); with profile_out, the last rerun under cProfile (every thread) too."""
    with seeded_bench(profile_name) as bench:
        with bench.fresh_destination("rerun") as destination:
            env = isolated_env(bench.scratch)
            args = ["--workspace", str(bench.scratch / "ws"), str(bench.isc), f"docker://{destination.host}/mirror"]
            cold = measured_skomirror(args, env)
            print(f"cold {cold['seconds']:.1f} s, own CPU {cold['cpu_self']:.2f} s", flush=True)
            for number in range(rounds):
                record_path = bench.scratch / f"rerun-{number}.json"
                more = {"SKOMIRROR_BENCH_TIMELINE": str(record_path)}
                if profile_out and number == rounds - 1:
                    more = {"SKOMIRROR_BENCH_PROFILE": str(profile_out)}
                noop = measured_skomirror(args, dict(env, **more))
                line = (f"no-op rerun {number + 1}: {noop['seconds']:.2f} s in main() = "
                        f"{100 * noop['seconds'] / cold['seconds']:.1f} % of the cold run; own CPU {noop['cpu_self']:.2f} s")
                if record_path.exists():
                    record = json.loads(record_path.read_text())
                    t0 = record["stages"]["process"][0]
                    line += "; " + ", ".join(f"{name} {times[0] - t0:.2f}-{times[-1] - t0:.2f}"
                                             for name, times in record["stages"].items() if name != "process")
                    line += f"; children {len(record['children'])}"
                print(line, flush=True)


# --- BENCHMARKS.md ---

def machine() -> str:
    skopeo = subprocess.run(["skopeo", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, {skopeo}, "
            f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")


def rate(bytes_per_second: float) -> str:
    return f"{bytes_per_second / MB:g} MB/s"


WAN_TEXT = (f"source behind the WAN emulator: {2 * WAN['latency'] * 1000:g} ms RTT, {rate(WAN['connection_rate'])} "
            f"per connection, {rate(WAN['total_rate'])} in all")


def profile_text(profile: dict) -> str:
    """What a profile seeds, in words (seed_openshift_shaped, seed_release_shaped)."""
    if profile is RELEASE:
        count, size = profile["extras"]
        layers = "-".join(map(str, profile["own_layers"]))
        return (f"{profile['components']} release components in one repository, each on one shared "
                f"{profile['os_layer'] / MB:g} MB OS layer and one of {len(profile['middles'])} shared middle "
                f"layers ({', '.join(f'{m / MB:g}' for m in profile['middles'])} MB) with {layers} own layers of "
                f"{profile['own'][0] / MB:g}-{profile['own'][1] / MB:g} MB; {profile['operators']} operators, each "
                f"an image (on a shared {profile['operator_base'] / MB:g} MB base) and a "
                f"{profile['bundle'] / 1000:g} kB bundle in repositories of their own; {count} single-layer "
                f"images of {size / MB:g} MB by tag")
    large, _ = profile["large"]
    return (f"{profile['components']} release components in one repository on {len(profile['bases'])} shared base "
            f"layers with {OWN_LAYERS[0]}-{OWN_LAYERS[1]} own layers each, {profile['operators']} operator images on "
            f"a shared base, {large} large single-layer images")


def compare_markdown(result: dict, command: str) -> str:
    limit = result["link_limit"]
    unique = result["unique"]
    ours = result["rows"]["skomirror"]
    lines = [f"## Side by side on an emulated WAN ({result['profile']} profile)", "", f"Command: `{command}`  ",
             machine() + "  ",
             f"Image set ({result['profile']} profile): {result['images']} images: "
             f"{profile_text(PROFILES[result['profile']])}; {unique / MB:.0f} MB unique; {WAN_TEXT}. Link limit = "
             f"unique bytes / {rate(WAN['total_rate'])} = {limit:.1f} s. Every tool gets a fresh destination registry "
             "and an empty skopeo blob-info cache. Wall times are whole commands, skomirror's included (Python's "
             "start-up and imports). CPU-seconds are the tool's with every process under it, and the two "
             "registries'; machine busy is all of the machine's cores over the row's run, other users' work included "
             "(steal not); stolen is the time the host gave our cores to other guests (steal): a row with much of it ran on a "
             "slowed machine.",
             "",
             "| tool | wall time (s) | × link limit | pulled through the link (MB) | × unique bytes | images missing "
             "after | CPU-s: tool and its skopeo | CPU-s: both registries | machine busy | stolen |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in result["rows"].items():
        missing = row.get("missing", "?")
        cpu = row.get("cpu", {})
        registries = cpu.get("source registry", 0) + cpu.get("destination registry", 0)
        capacity = max(cpu.get("machine capacity", 0), 1e-9)
        busy, stolen = (100 * cpu.get(part, 0) / capacity for part in ("machine busy", "machine stolen"))
        lines.append(f"| {name} | {row['seconds']:.1f} | {row['seconds'] / limit:.2f} | {row['pulled'] / MB:.0f} | "
                     f"{row['pulled'] / unique:.2f} | {missing} | {cpu.get('tool and its skopeo', 0):.1f} | "
                     f"{registries:.1f} | {busy:.0f} % | {stolen:.0f} % |")
    cold, noop = ours["cold"], ours["noop"]
    lines += ["", f"skomirror, cold run: its own CPU {cold['cpu_self']:.1f} s, its skopeo children's "
                  f"{cold['cpu_children']:.1f} s ({100 * cold['cpu_self'] / max(cold['cpu_children'], 1e-9):.1f} %); "
                  f"peak memory {cold['peak_rss_mb']:.0f} MB.  ",
              f"No-op rerun (same ISC, same destination): {noop['whole']:.2f} s = "
              f"{100 * noop['whole'] / cold['whole']:.1f} % of the cold run, the whole command each (in main(), "
              f"without Python's start-up and imports: {noop['seconds']:.2f} s = "
              f"{100 * noop['seconds'] / cold['seconds']:.1f} %).  "]
    for name, row in result["rows"].items():
        if name != "skomirror":
            lines.append(f"skomirror is {row['seconds'] / ours['seconds']:.2f} × faster than {name}.  ")
    return "\n".join(lines) + "\n"


def memory_markdown(results: List[dict], command: str) -> str:
    lines = ["## Scale of the plan", "", f"Command: `{command}`  ", machine() + "  ",
             f"A `--dry-run` over N references (digest-pinned, in {MEMORY_REPOSITORIES} repositories, source and "
             "destination registries on 127.0.0.1 without the WAN emulator): every image surveyed at both ends and "
             "its signature looked up, as a real run does before copying. Stages timed inside the process "
             "(scripts/bench_timeline.py); memory is the process's peak resident set (VmHWM).", "",
             "| images | wall (s) | peak memory (MB) | own CPU (s) | read the ISC (s) | collect (s) | plan (s) | "
             "survey and signatures (s) | dry-run report (s) | plan µs per image |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        st = r["stages"]
        lines.append(f"| {r['images']:,} | {r['seconds']:.1f} | {r['peak_rss_mb']:.0f} | {r['cpu_self']:.1f} | "
                     f"{st.get('ISC', 0):.2f} | {st.get('collect', 0):.2f} | {st.get('plan', 0):.2f} | "
                     f"{st.get('survey', 0):.2f} | {st.get('dry-run report', 0):.2f} | "
                     f"{1e6 * st.get('plan', 0) / r['images']:.0f} |")
    return "\n".join(lines) + "\n"


def parallel_images_markdown(result: dict, command: str) -> str:
    lines = ["## Choosing --parallel-images", "", f"Command: `{command}`  ", machine() + "  ",
             f"Image set ({result['profile']} profile): {result['images']} images, {result['unique_mb']} MB unique; "
             f"{WAN_TEXT}; link limit {result['link_limit_s']} s. Fresh destination per row.", "",
             "| --parallel-images | wall time (s) | × link limit | pulled through the link (MB) |",
             "|---:|---:|---:|---:|"]
    lines += [f"| {r['parallel_images']} | {r['seconds']} | {r['x_link_limit']} | {r['pulled_mb']} |"
              for r in result["rows"]]
    best = min(result["rows"], key=lambda row: row["seconds"])
    chosen = next((row for row in result["rows"] if row["parallel_images"] == DEFAULT_PARALLEL_IMAGES), None)
    lines += ["", f"Fastest here: {best['parallel_images']} ({best['seconds']} s)."]
    if chosen:
        lines.append(f"The default, {DEFAULT_PARALLEL_IMAGES}, takes {chosen['seconds'] / best['seconds']:.2f} × the "
                     "fastest time.")
    return "\n".join(lines) + "\n"


def replace_section(path: Path, heading: str, text: str) -> None:
    """Swap one `## heading` section of BENCHMARKS.md, keeping the others."""
    current = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = current.find(heading)
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(heading))
        updated = current[:start] + text + ("\n" + current[end + 1:] if end >= 0 else "")
    path.write_text(updated)


def variant_trees(variants: List[str]) -> List[Path]:
    """The skomirror trees that variants name with PYTHONPATH; refused at once (before any seeding) when a
    variant's PYTHONPATH holds none, which would end every one of its runs in an ImportError."""
    trees = []
    for variant in variants:
        path = split_variant(variant.split())[0].get("PYTHONPATH")
        if path is None:
            continue
        found = [Path(entry) / "skomirror" for entry in path.split(":") if (Path(entry) / "skomirror").is_dir()]
        if not found:
            raise SystemExit(f"bench.py: --variant {variant!r}: no skomirror package in PYTHONPATH {path}")
        trees += found
    return trees


def compile_bytecode(trees: List[Path]) -> None:
    """skomirror's modules compiled once, as pip compiles an installed package: with PYTHONDONTWRITEBYTECODE set
    (as on the CI machines) every run would otherwise compile each module it imports again. So are those of the
    trees other variants run (another checkout measured beside this one)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(PROJECT / "skomirror"), *map(str, trees)],
                   check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="benchmark", required=True)
    compare = sub.add_parser("compare")
    compare.add_argument("--profile", choices=sorted(PROFILES), default="default")
    memory = sub.add_parser("memory")
    memory.add_argument("--images", default="1000,5000,10000", help="sizes, comma-separated")
    plan_scale = sub.add_parser("plan-scale", help="the plan alone, in-process, at several sizes")
    plan_scale.add_argument("--images", default="1000,5000,10000,20000", help="sizes, comma-separated")
    sweep = sub.add_parser("parallel-images")
    sweep.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    sweep.add_argument("--values", default="1,2,4,8,12,16")
    timeline = sub.add_parser("timeline", help="one cold skomirror run, every copy timed")
    timeline.add_argument("--profile", choices=sorted(PROFILES), default="release")
    timeline.add_argument("--out", type=Path, help="keep each raw record (JSON) as OUT.<round>-<variant>.json")
    timeline.add_argument("--variant", action="append", default=[],
                          help="more skomirror run options (and NAME=VALUE for its environment), as one string; "
                               "repeat to compare several")
    timeline.add_argument("--rounds", type=int, default=1)
    survey = sub.add_parser("survey", help="a first run's survey alone (--dry-run into an empty destination)")
    survey.add_argument("--profile", choices=sorted(PROFILES), default="release")
    survey.add_argument("--variant", action="append", default=[], help="as for timeline")
    survey.add_argument("--rounds", type=int, default=3)
    rerun = sub.add_parser("rerun", help="a cold skomirror run, then no-op reruns with their stages timed")
    rerun.add_argument("--profile", choices=sorted(PROFILES), default="release")
    rerun.add_argument("--rounds", type=int, default=3)
    rerun.add_argument("--cprofile", type=Path, help="profile the last rerun (every thread) into this pstats file")
    for command in (compare, memory, sweep):
        command.add_argument("--write", action="store_true", help="record the table in BENCHMARKS.md")
    for command in (compare, sweep, timeline, survey, rerun):
        command.add_argument("--handshake", action="store_true",
                             help="a new connection through the WAN emulator costs a round trip, as TCP's does")
    args = parser.parse_args()
    if getattr(args, "handshake", False):
        WAN["handshake"] = True
    command = "scripts/bench.py " + " ".join(sys.argv[1:])
    compile_bytecode(variant_trees(getattr(args, "variant", [])))
    if args.benchmark == "plan-scale":
        print(plan_scale_markdown(bench_plan_scale([int(v) for v in args.images.split(",")]), command))
        return
    if args.benchmark == "rerun":
        bench_rerun(args.profile, args.rounds, args.cprofile)
        return
    if args.benchmark == "survey":
        bench_survey(args.profile, [v.split() for v in args.variant] or [[]], args.rounds)
        return
    if args.benchmark == "timeline":
        bench_timeline_run(args.profile, [v.split() for v in args.variant] or [[]], args.out, args.rounds)
        return
    if args.benchmark == "compare":
        markdown = compare_markdown(bench_compare(args.profile), command)
        heading = f"## Side by side on an emulated WAN ({args.profile} profile)"
    elif args.benchmark == "memory":
        markdown = memory_markdown(bench_memory([int(v) for v in args.images.split(",")]), command)
        heading = "## Scale of the plan"
    else:
        markdown = parallel_images_markdown(
            bench_parallel_images(args.profile, [int(v) for v in args.values.split(",")]), command)
        heading = "## Choosing --parallel-images"
    print(markdown)
    if args.write:
        replace_section(PROJECT / "BENCHMARKS.md", heading, markdown)


if __name__ == "__main__":
    main()
