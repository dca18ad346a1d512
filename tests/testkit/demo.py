"""The demo behind scripts/demo.sh: two local registries, sample images, a mirror, a rerun, an air gap.

Run with `python -m testkit.demo`. It stops what it started, even on Ctrl-C.
"""

import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Union

from testkit.catalogs import seed_catalog
from testkit.images import Image, Index, make_index, make_layer, simple_image
from testkit.registry import Registry

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT / "examples" / "demo-isc.yaml"
SOURCE_PORT, MIRROR_PORT = 5101, 5102
MIRROR_NAMESPACE = "mirror/ocp"


def sample_images() -> Dict[str, Union[Image, Index]]:
    """A few OpenShift-looking images; deterministic, so the example ISC can pin one by digest."""
    ubi_base = [make_layer("demo/ubi9-base", 600_000)]
    python_layer = [make_layer("demo/python-311", 300_000)]
    return {
        "ubi9/ubi:latest": make_index([simple_image("ubi9", (50_000,), ubi_base, arch)
                                       for arch in ("amd64", "arm64", "ppc64le", "s390x")]),
        "ubi9/python-311:1-77": simple_image("python-311", (80_000,), ubi_base + python_layer),
        "openshift4/ose-cli:v4.18": simple_image("ose-cli", (400_000, 20_000), ubi_base),
        "rhel9/support-tools:latest": simple_image("support-tools", (150_000,), ubi_base),
        "team/build-agent:2.4": simple_image("build-agent", (120_000,), ubi_base + python_layer),
        "legacy/app:0.9": simple_image("legacy-app", (90_000,)),
    }


# Two operators in a catalog, as examples/demo-isc.yaml filters them.
CATALOG = {
    "aws-load-balancer-operator": {"default": "stable-v1", "channels": {
        "stable-v1": [("aws-load-balancer-operator.v1.0.0", None, []),
                      ("aws-load-balancer-operator.v1.1.0", "aws-load-balancer-operator.v1.0.0", []),
                      ("aws-load-balancer-operator.v1.2.0", "aws-load-balancer-operator.v1.1.0", [])]}},
    "node-observability-operator": {"default": "alpha", "channels": {
        "alpha": [("node-observability-operator.v0.1.0", None, []),
                  ("node-observability-operator.v0.2.0", "node-observability-operator.v0.1.0", [])]}},
}


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def skomirror(*args: str) -> int:
    command = [sys.executable, "-m", "skomirror", "run", "--src-tls-verify=false", "--dest-tls-verify=false", *args]
    print("\n$ skomirror run " + " ".join(command[4:]), flush=True)
    return subprocess.run(command).returncode


def main() -> int:
    for port in (SOURCE_PORT, MIRROR_PORT):
        if not port_is_free(port):
            print(f"demo: port {port} on 127.0.0.1 is in use; stop what listens there and retry", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory(prefix="skomirror-demo-") as scratch:
        root = Path(scratch)
        with Registry(root / "source", port=SOURCE_PORT) as source, \
                Registry(root / "mirror", port=MIRROR_PORT) as mirror:
            print(f"demo: source registry {source.host}, mirror registry {mirror.host} (data in {root})")
            for name, image in sample_images().items():
                repository, tag = name.rsplit(":", 1)
                digest = source.push(repository, tag, image)
                print(f"demo: seeded {source.host}/{name}  {digest}")
            catalog = seed_catalog(source, CATALOG, repository="redhat/redhat-operator-index", tag="v4.18")
            print(f"demo: seeded the catalog {catalog.reference} and its bundle and related images")
            isc = EXAMPLE.read_text()
            pinned = source.manifest_digest("rhel9/support-tools", "latest")
            if pinned not in isc:
                print(f"demo: {EXAMPLE} pins support-tools to another digest; expected {pinned}", file=sys.stderr)
                return 1
            workspace = root / "workspace"
            destination = f"docker://{mirror.host}/{MIRROR_NAMESPACE}"
            code = skomirror(str(EXAMPLE), destination, "--workspace", str(workspace))
            print(f"\ndemo: what arrived in {mirror.host}:")
            for repository in mirror.catalog():
                for tag in mirror.tags(repository):
                    print(f"  {repository}:{tag}  {mirror.manifest_digest(repository, tag)}")
            print("\ndemo: the same command again resumes from what is there: nothing left to copy")
            code |= skomirror(str(EXAMPLE), destination, "--workspace", str(workspace))
            print(f"\ndemo: mapping.txt:\n{(workspace / 'mapping.txt').read_text()}")

            print("demo: across an air gap: mirror to disk in parts of at most 1 MiB, then push the archives")
            disk = root / "disk"
            code |= skomirror(str(EXAMPLE), f"file://{disk}", "--archive-size", "1MiB",
                              "--workspace", str(root / "workspace-connected"))
            print("\ndemo: what would be carried across:")
            for path in sorted(disk.glob("mirror_*")):
                print(f"  {path.name}  {path.stat().st_size} bytes")
            code |= skomirror("--from", f"file://{disk}", f"docker://{mirror.host}/disconnected",
                              "--workspace", str(root / "workspace-disconnected"))
        print("demo: registries stopped, scratch data removed")
    return code


if __name__ == "__main__":
    sys.exit(main())
