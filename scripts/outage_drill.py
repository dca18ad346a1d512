#!/usr/bin/env python3
"""An outage in the middle of a mirror, and what it cost: run by hand, not a test.

  scripts/outage_drill.py --outage destination-stop|destination-kill|source-503 --down SECONDS
                          [--images 30] [--tree DIR] [--keep DIR] [-- extra skomirror flags]

Real docker-registry on 127.0.0.1, the source behind the WAN emulator (1 MB/s) so that
copies take seconds. Once 3 copies have finished, the destination is stopped (SIGTERM) or
killed (SIGKILL) and started again after --down seconds on the same port and storage, or
the fault proxy in front of the source answers 503 to every request for --down seconds.
`skomirror run` runs with default flags (plus what follows `--`) from --tree (default: this
checkout), so another checkout (an older commit) can be measured the same way. Prints
what the console said about the outage, the exit code, the images lost and the wall time.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test kit lives in tests/testkit

from testkit.faultproxy import Fault, FaultProxy, FaultSchedule  # noqa: E402
from testkit.images import simple_image  # noqa: E402
from testkit.isc import write_isc  # noqa: E402
from testkit.registry import Registry  # noqa: E402
from testkit.wanproxy import WanProxy  # noqa: E402


def finished(workspace: Path) -> int:
    return sum("=== exit 0" in log.read_text() and "copy attempt" in log.read_text()
               for log in workspace.rglob("*.log")) if workspace.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", required=True, choices=["destination-stop", "destination-kill", "source-503"])
    parser.add_argument("--down", type=float, required=True, help="seconds")
    parser.add_argument("--images", type=int, default=30)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the skomirror checkout to run")
    parser.add_argument("--keep", type=Path, help="work in this new directory and keep it (logs, results.json)")
    parser.add_argument("extra", nargs="*", help="more skomirror flags, after --")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drill-") as tmp:
        root = Path(tmp) if args.keep is None else args.keep.resolve()
        root.mkdir(parents=True, exist_ok=args.keep is None)
        source, destination = Registry(root / "source").start(), Registry(root / "destination").start()
        schedule = FaultSchedule({})
        slow = WanProxy(source.port, latency=0.005, connection_rate=1e6, total_rate=1e6).start()
        faulty = FaultProxy(slow.port, schedule).start()
        try:
            digests = {f"drill/app{i:02d}": source.push(f"drill/app{i:02d}", "1",
                                                        simple_image(f"drill{i}", (150_000, 50_000)))
                       for i in range(args.images)}
            isc = write_isc(root / "isc.yaml", [f"{faulty.host}/{repository}:1" for repository in digests])
            workspace = root / "skomirror-workspace"
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "-m", "skomirror", "run", "--src-tls-verify=false", "--dest-tls-verify=false",
                 *args.extra, str(isc), f"docker://{destination.host}"], cwd=root,
                env=dict(os.environ, PYTHONPATH=str(args.tree.resolve())), stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True)
            while finished(workspace) < 3 and process.poll() is None:
                time.sleep(0.05)
            down_at = time.monotonic() - started
            if args.outage == "source-503":
                schedule.outage(Fault("status", 503))
            elif args.outage == "destination-kill":
                destination.process.kill()
                destination.process.wait()
                destination.process = None
            else:
                destination.stop()
            time.sleep(args.down)
            schedule.outage(None) if args.outage == "source-503" else destination.start()
            output, _ = process.communicate()
            elapsed = time.monotonic() - started
            images = json.loads((workspace / "results.json").read_text())["images"]
        finally:
            faulty.stop()
            slow.stop()
            source.stop()
            destination.stop()
    said = [line for line in output.splitlines() if " since " in line and not line.startswith(("mirroring", "check"))]
    lost = [image["destination"] for image in images if image["status"] != "copied"]
    print("\n".join(said))
    print(f"{args.outage} for {args.down:g}s from {down_at:.1f}s: exit {process.returncode}, "
          f"{len(lost)} of {len(images)} images lost, {elapsed:.0f}s in all")


if __name__ == "__main__":
    main()
