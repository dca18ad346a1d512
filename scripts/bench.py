#!/usr/bin/env python3
"""Benchmarks, not tests: run by hand, results recorded in BENCHMARKS.md.

  scripts/bench.py parallel-images [--profile quick|default] [--write]

Everything runs on 127.0.0.1: two docker-registry instances, the source behind
the WAN emulator (skomirror.testkit.wanproxy). Figures are ratios and times
measured side by side in one run; the machines are shared and noisy, so
compare within a table, not across tables.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from skomirror.workflows import DEFAULT_PARALLEL_IMAGES  # noqa: E402
from skomirror.testkit.images import make_layer, simple_image  # noqa: E402
from skomirror.testkit.registry import Registry  # noqa: E402
from skomirror.testkit.wanproxy import WanProxy  # noqa: E402

MB = 1_000_000
# RTT 40 ms, 10 MB/s per connection, 50 MB/s in all: a fair WAN link to a remote registry.
WAN = dict(latency=0.020, connection_rate=10 * MB, total_rate=50 * MB)
PROFILES = {
    # images, repositories, base layers (bytes), own layers per image (bytes each)
    "quick": dict(images=24, repositories=12, bases=(6 * MB, 3 * MB), own=(800_000, 200_000)),
    "default": dict(images=48, repositories=24, bases=(12 * MB, 6 * MB), own=(1_500_000, 400_000)),
}


def seed(source: Registry, profile: dict) -> List[str]:
    """Images spread over repositories; each carries one of two shared bases plus layers of its own."""
    bases = [[make_layer(f"bench-base-{i}", size)] for i, size in enumerate(profile["bases"])]
    names = []
    for i in range(profile["images"]):
        repository = f"bench/repo{i % profile['repositories']}"
        tag = f"v{i}"
        source.push(repository, tag, simple_image(f"bench-{i}", profile["own"], base=bases[i % len(bases)]))
        names.append(f"{repository}:{tag}")
    return names


def unique_bytes(source: Registry) -> int:
    blobs = source.storage / "docker" / "registry" / "v2" / "blobs"
    return sum(path.stat().st_size for path in blobs.rglob("data"))


def write_isc(path: Path, host: str, names: List[str]) -> Path:
    lines = ["kind: ImageSetConfiguration", "apiVersion: mirror.openshift.io/v2alpha1", "mirror:",
             "  additionalImages:"] + [f"  - name: {host}/{name}" for name in names]
    path.write_text("\n".join(lines) + "\n")
    return path


def isolated_env(scratch: Path) -> Dict[str, str]:
    """A private HOME: skopeo's blob-info cache must not carry knowledge from one run to the next.

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


def timed_skomirror(isc: Path, destination: str, workspace: Path, env: Dict[str, str], *extra: str) -> float:
    command = [sys.executable, "-m", "skomirror", "run", "--src-tls-verify=false", "--dest-tls-verify=false",
               "--workspace", str(workspace), *extra, str(isc), destination]
    start = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(f"skomirror failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return elapsed


def bench_parallel_images(profile_name: str, values: List[int]) -> dict:
    profile = PROFILES[profile_name]
    rows = []
    with tempfile.TemporaryDirectory(prefix="skomirror-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        with Registry(scratch / "source") as source:
            names = seed(source, profile)
            total = unique_bytes(source)
            with WanProxy(source.port, **WAN) as proxy:
                isc = write_isc(scratch / "isc.yaml", proxy.host, names)
                link_limit = total / WAN["total_rate"]
                for value in values:
                    with Registry(scratch / f"dest-{value}") as destination:
                        env = isolated_env(scratch)
                        proxy.reset_counters()
                        seconds = timed_skomirror(isc, f"docker://{destination.host}/mirror",
                                                  scratch / f"ws-{value}", env, "--parallel-images", str(value))
                        rows.append({"parallel_images": value, "seconds": round(seconds, 2),
                                     "x_link_limit": round(seconds / link_limit, 2),
                                     "pulled_mb": round(proxy.counters.bytes_down / MB, 1)})
                        print(json.dumps(rows[-1]), flush=True)
    return {"profile": profile_name, "images": len(names), "unique_mb": round(total / MB, 1),
            "link_limit_s": round(total / WAN["total_rate"], 2), "rows": rows}


def skopeo_version() -> str:
    return subprocess.run(["skopeo", "--version"], capture_output=True, text=True).stdout.strip()


def parallel_images_markdown(result: dict, command: str) -> str:
    lines = [
        "## Choosing --parallel-images",
        "",
        f"Command: `{command}`  ",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, {skopeo_version()}, "
        f"Python {platform.python_version()}  ",
        f"Image set: {result['images']} images in {PROFILES[result['profile']]['repositories']} repositories, "
        f"two shared base layers, {result['unique_mb']} MB unique. Source behind the WAN emulator: 40 ms RTT, "
        f"10 MB/s per connection, 50 MB/s in all; link limit (unique bytes / 50 MB/s) "
        f"= {result['link_limit_s']} s. Fresh destination registry and a private skopeo blob-info cache per row.",
        "",
        "| --parallel-images | wall time (s) | × link limit | pulled through the link (MB) |",
        "|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['parallel_images']} | {row['seconds']} | {row['x_link_limit']} | {row['pulled_mb']} |")
    best = min(result["rows"], key=lambda row: row["seconds"])
    chosen = next((row for row in result["rows"] if row["parallel_images"] == DEFAULT_PARALLEL_IMAGES), None)
    lines.append("")
    lines.append(f"Fastest here: {best['parallel_images']} ({best['seconds']} s).")
    if chosen:
        lines.append(f"The default, {DEFAULT_PARALLEL_IMAGES}, takes {round(chosen['seconds'] / best['seconds'], 2)} × "
                     f"the fastest time and pulls {chosen['pulled_mb']} MB "
                     f"({round(chosen['pulled_mb'] / result['unique_mb'], 2)} × the unique bytes). More parallel "
                     "copies stop paying once the link is full: they add duplicate pulls of shared base layers "
                     "(each skopeo fetches a shared blob on its own) and load on a 2-core machine.")
    return "\n".join(lines) + "\n"


def replace_section(path: Path, heading: str, text: str) -> None:
    """Swap one `## heading` section of BENCHMARKS.md, keeping the others."""
    current = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = current.find(heading)
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(heading))
        updated = current[:start] + text + (current[end:] if end >= 0 else "")
    path.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="benchmark", required=True)
    sweep = sub.add_parser("parallel-images", help="wall time of one image set for several --parallel-images")
    sweep.add_argument("--profile", choices=sorted(PROFILES), default="default")
    sweep.add_argument("--values", default="1,2,4,8,12,16")
    sweep.add_argument("--write", action="store_true", help="record the table in BENCHMARKS.md")
    args = parser.parse_args()
    command = "scripts/bench.py " + " ".join(sys.argv[1:])
    if args.benchmark == "parallel-images":
        result = bench_parallel_images(args.profile, [int(v) for v in args.values.split(",")])
        markdown = parallel_images_markdown(result, command)
        print(markdown)
        if args.write:
            replace_section(PROJECT / "BENCHMARKS.md", "## Choosing --parallel-images", markdown)


if __name__ == "__main__":
    main()
