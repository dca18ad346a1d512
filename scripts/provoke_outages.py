#!/usr/bin/env python3
"""Provoke the errors skopeo prints when a registry goes away, and keep one real line of each shape.

  scripts/provoke_outages.py [--out tests/unit/data/skopeo-outage-stderr.txt] [--skip-restarts]

Real skopeo against real docker-registry on 127.0.0.1: 12 copies at a time of 30
images while the source or the destination is stopped (SIGTERM) or killed (SIGKILL),
over plain HTTP and TLS, directly and behind the WAN emulator (so uploads are in flight);
one large image whose source or destination is killed at several instants of its copy;
ports that close or reset every connection; the fault proxy answering 5xx or 429 to
everything. Each distinct shape of message (what skopeo was doing, how the connection
ended) is kept once with the scenario that produced it; what the file held already is
kept too, since which shapes appear varies from run to run. tests/unit/test_failures.py
reads the file and checks each line's classification. About 10 minutes on 2 cores
(--skip-restarts: one).
"""

import argparse
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test kit lives in tests/testkit

from testkit.faultproxy import Fault, FaultProxy, FaultSchedule  # noqa: E402
from testkit.images import simple_image  # noqa: E402
from testkit.registry import Registry, make_tls_files  # noqa: E402
from testkit.wanproxy import WanProxy  # noqa: E402

FATAL = re.compile(r'^time="[^"]*" level=fatal msg=.*$', re.MULTILINE)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tests" / "unit" / "data" / "skopeo-outage-stderr.txt"


class Catch:
    """One fatal line per shape: the operation skopeo names first and how its connection ended."""

    def __init__(self):
        self.lines: Dict[Tuple[str, str, str], Tuple[str, str]] = {}
        self._lock = threading.Lock()

    def add(self, scenario: str, stderr: str) -> None:
        found = FATAL.findall(stderr)
        if not found:
            return
        line = found[-1]
        message = line.split(" msg=", 1)[1]
        operation = re.match(r'"(writing blob: \w+|writing manifest: \w+|trying to reuse blob|reading config blob|'
                             r'reading blob|initializing source|reading manifest|[^:]*)', message)
        ending = re.sub(r"[\d.:>-]+", "", message.rsplit(': ', 1)[-1])
        key = (operation.group(1) if operation else "", "https" if "https://" in message else "http", ending)
        with self._lock:
            self.lines.setdefault(key, (scenario, line))


def skopeo_copy(source: str, destination: str, tls_dir) -> subprocess.CompletedProcess:
    access = ["--src-cert-dir", str(tls_dir), "--dest-cert-dir", str(tls_dir)] if tls_dir else \
        ["--src-tls-verify=false", "--dest-tls-verify=false"]
    return subprocess.run(["skopeo", "--insecure-policy", "copy", "--preserve-digests", *access,
                           f"docker://{source}", f"docker://{destination}"], capture_output=True, text=True)


def restarts(root: Path, catch: Catch, victim_side: str, kill: bool, tls: bool, slow: bool) -> None:
    """30 images, 12 copies at a time, each retried until it succeeds; the victim is down 3 s from 1.5 s on."""
    name = f"{victim_side} {'killed' if kill else 'stopped'}, {'TLS' if tls else 'HTTP'}"
    name += ", slow link" if slow else ""
    files = make_tls_files(root / "tls") if tls else None
    source, destination = Registry(root / "src", tls=files).start(), Registry(root / "dst", tls=files).start()
    proxies: List[WanProxy] = []
    try:
        for i in range(30):
            source.push(f"app/i{i}", "1", simple_image(f"i{i}", (3_000_000, 1_000_000, 30_000)))
        hosts = [source.host, destination.host]
        if slow:
            proxies = [WanProxy(registry.port, latency=0.005, connection_rate=3e6, total_rate=20e6).start()
                       for registry in (source, destination)]
            hosts = [proxy.host for proxy in proxies]
        victim = source if victim_side == "source" else destination

        def one(i: int) -> None:
            for _ in range(50):
                done = skopeo_copy(f"{hosts[0]}/app/i{i}:1", f"{hosts[1]}/app/i{i}:1", files and files.ca_dir)
                if done.returncode == 0:
                    return
                catch.add(name, done.stderr)
                time.sleep(0.5)

        def outage() -> None:
            time.sleep(1.5)
            if kill:
                victim.process.kill()
                victim.process.wait()
                victim.process = None
            else:
                victim.stop()
            time.sleep(3)
            victim.start()

        threading.Thread(target=outage, daemon=True).start()
        with ThreadPoolExecutor(12) as pool:
            list(pool.map(one, range(30)))
    finally:
        for proxy in proxies:
            proxy.stop()
        source.stop()
        destination.stop()


def killed_mid_copy(root: Path, catch: Catch) -> None:
    """One image of 90 MB; its source or its destination killed at several instants of the copy, directly
    and behind the WAN emulator (the emulator then closes the client's connection itself)."""
    cases = [(side, after, False) for side in ("destination", "source") for after in (0.1, 0.3, 0.6, 1.0, 1.3)]
    for number, (side, after, slow) in enumerate(cases + [("destination", 2.0, True), ("source", 2.0, True)]):
        source, destination = Registry(root / f"src{number}").start(), Registry(root / f"dst{number}").start()
        victim = source if side == "source" else destination
        proxy = WanProxy(victim.port, latency=0.005, connection_rate=4e6, total_rate=8e6).start() if slow else None
        hosts = {registry: proxy.host if registry is victim and proxy else registry.host
                 for registry in (source, destination)}
        try:
            source.push("big/x", "1", simple_image("big", (40_000_000, 30_000_000, 20_000_000)))
            process = subprocess.Popen(["skopeo", "--insecure-policy", "copy", "--src-tls-verify=false",
                                        "--dest-tls-verify=false", "--preserve-digests",
                                        f"docker://{hosts[source]}/big/x:1", f"docker://{hosts[destination]}/big/x:1"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(after)
            victim.process.kill()
            _, stderr = process.communicate(timeout=120)
            catch.add(f"{side} killed {after}s into the copy of a 90 MB image"
                      + (" behind the WAN emulator" if slow else ""), stderr)
        finally:
            if proxy:
                proxy.stop()
            source.stop()
            destination.stop()


def hostile_port(catch: Catch, how: str) -> None:
    """A port whose every connection is closed (`close`) or reset (`reset`) at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            if how == "reset":
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        for tls_verify in ("true", "false") * 5:  # how the closed connection reads varies: several tries
            done = subprocess.run(["skopeo", "--insecure-policy", "copy", f"--src-tls-verify={tls_verify}",
                                   f"docker://127.0.0.1:{port}/a/b:1", f"dir:{tempfile.mkdtemp(prefix='provoke-')}"],
                                  capture_output=True, text=True, timeout=60)
            catch.add(f"every connection {'reset' if how == 'reset' else 'closed'} at once, "
                      f"--tls-verify={tls_verify}", done.stderr)
    finally:
        listener.close()


def answering(root: Path, catch: Catch) -> None:
    """The fault proxy in front of the source answers every request with one status."""
    source, destination = Registry(root / "fsrc").start(), Registry(root / "fdst").start()
    try:
        source.push("app/x", "1", simple_image("x", (10_000,)))
        for status in (500, 502, 503, 429):
            schedule = FaultSchedule({})
            schedule.outage(Fault("status", status, retry_after=1 if status == 429 else None))
            with FaultProxy(source.port, schedule) as proxy:
                catch.add(f"source answering {status} to everything",
                          skopeo_copy(f"{proxy.host}/app/x:1", f"{destination.host}/app/x:1", None).stderr)
    finally:
        source.stop()
        destination.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--skip-restarts", action="store_true", help="leave out the 16 restart scenarios")
    args = parser.parse_args()
    catch = Catch()
    if args.out.exists():
        scenario = ""
        for line in args.out.read_text().splitlines():
            if line.startswith("# "):
                scenario = line[2:]
            elif line.strip():
                catch.add(scenario, line)
    with tempfile.TemporaryDirectory(prefix="provoke-") as tmp:
        root = Path(tmp)
        scenarios = [] if args.skip_restarts else \
            [(side, kill, tls, slow) for side in ("destination", "source") for kill in (False, True)
             for tls in (False, True) for slow in (False, True)]
        for number, (side, kill, tls, slow) in enumerate(scenarios):
            restarts(root / str(number), catch, side, kill, tls, slow)
            print(f"{number + 1}/16 restart scenarios, {len(catch.lines)} shapes", flush=True)
        killed_mid_copy(root / "big", catch)
        hostile_port(catch, "close")
        hostile_port(catch, "reset")
        answering(root / "answering", catch)
    header = ("## Real stderr lines of skopeo {} (stderr not a TTY), provoked by scripts/provoke_outages.py.\n"
              "## Each line is preceded by the scenario that produced it.\n").format(
        subprocess.run(["skopeo", "--version"], capture_output=True, text=True).stdout.split()[-1])
    body = "".join(f"# {scenario}\n{line}\n" for scenario, line in sorted(catch.lines.values()))
    args.out.write_text(header + body)
    print(f"{len(catch.lines)} lines written to {args.out}")


if __name__ == "__main__":
    main()
