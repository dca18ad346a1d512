"""Every skopeo command line skomirror runs is built here.

The installed skopeo is probed once: Debian 12 ships 1.9.3, RHEL 9 much
newer, and their flags differ. Credentials never appear on a command line:
they reach skopeo through an auth file (`--authfile`) or skopeo's defaults.
"""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Tuple

from skomirror.errors import SkomirrorError

INSTALL_HINT = "install it: dnf install -y skopeo (RHEL, Fedora) or apt-get install -y skopeo (Debian, Ubuntu)"
# The oldest skopeo with --preserve-digests and --multi-arch, without which a mirror's digests could change.
MINIMUM_VERSION = (1, 6, 0)
LAYER_DEFAULT = 6  # containers/image's built-in parallel blob copies per image
# Go's collector at its default (GOGC=100) took about a fifth of skopeo's CPU on copies of small images
# (BENCHMARKS.md, "Where the seconds go"); at 400 a copy's heap, a few MB live since layers are streamed,
# may grow to five times that before it is collected. A GOGC the user set is kept.
GO_COLLECTOR = {"GOGC": "400"}
_FLAG_LINE = re.compile(r"^\s+(?:-\w,\s+)?--([a-z0-9][a-z0-9.-]*)", re.MULTILINE)
_VERSION = re.compile(r"version\s+v?(\d+)\.(\d+)(?:\.(\d+))?")
SYSTEM_POLICY = Path("/etc/containers/policy.json")


def go_threads(copies_at_once: int) -> str:
    """GOMAXPROCS for each skopeo: its share of this process's cores. Go gives every process all of them, so a
    dozen copies on two cores ran a dozen schedulers and parallel collectors against each other; at one core
    each, skopeo's CPU on the release benchmark fell by 9-27 % in six rounds (BENCHMARKS.md). Copies keep
    digests, so a process's own CPU work is hashing (and TLS) what it streams: one core of the benchmark's
    machine hashes 1.7 GB/s."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return str(max(1, cores // copies_at_once))  # --parallel-images is at least 1


def user_policy() -> Path:
    """Where containers/image looks first for the signature policy (then SYSTEM_POLICY)."""
    return Path.home() / ".config" / "containers" / "policy.json"


@dataclass(frozen=True)
class SignaturePolicy:
    """The signature policy skopeo copies under. By default none (--insecure-policy), as oc-mirror without
    --secure-policy: mirroring copies bytes, it does not admit images to run. `secure`: the policy skopeo
    finds itself (containers-policy.json), or `file` (oc-mirror's --policy)."""

    secure: bool = False
    file: Optional[Path] = None

    def args(self) -> List[str]:
        if not self.secure:
            return ["--insecure-policy"]
        return ["--policy", str(self.file)] if self.file is not None else []

    def check(self) -> None:
        """The policy skopeo will read must exist, or every copy would fail the same way."""
        if not self.secure:
            return
        if self.file is not None:
            if not self.file.is_file():
                raise SkomirrorError(f"--policy {self.file}: no such file")
        elif not user_policy().is_file() and not SYSTEM_POLICY.is_file():
            raise SkomirrorError(f"--secure-policy: no signature policy at {user_policy()} or {SYSTEM_POLICY}; "
                                 "write one (man containers-policy.json), give --policy FILE, or leave "
                                 "--secure-policy out")


@dataclass(frozen=True)
class Capabilities:
    version: Tuple[int, int, int]
    copy_flags: FrozenSet[str]

    @property
    def version_text(self) -> str:
        return version_text(self.version)

    def has(self, flag: str) -> bool:
        return flag in self.copy_flags


def parse_version(text: str) -> Tuple[int, int, int]:
    match = _VERSION.search(text)
    if not match:
        raise SkomirrorError(f"cannot read the skopeo version from {text.strip()!r}")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def parse_flags(help_text: str) -> FrozenSet[str]:
    return frozenset(_FLAG_LINE.findall(help_text))


def version_text(version: Tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def installed_version(binary: str = "skopeo") -> Optional[str]:
    """The version of the skopeo on PATH, for `skomirror version`; None when there is none that runs."""
    from plumbum import local  # plumbum (and the urllib, http and email it imports) only where a process is run
    from plumbum.commands.processes import CommandNotFound, ProcessExecutionError
    try:
        return version_text(parse_version(local[binary]("--version")))
    except (CommandNotFound, ProcessExecutionError, OSError, SkomirrorError):
        return None


def check_authfile(path: Path) -> None:
    """Refuse an unreadable or malformed auth file up front; never echo its content."""
    try:
        document = json.loads(Path(path).read_text())
    except OSError as exc:
        raise SkomirrorError(f"--authfile {path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError:
        raise SkomirrorError(f"--authfile {path}: not valid JSON; expected a containers-auth.json file "
                             "(skopeo login --authfile writes one)") from None
    if not isinstance(document, dict) or not isinstance(document.get("auths", {}), dict) or \
            not ("auths" in document or "credHelpers" in document):
        raise SkomirrorError(f"--authfile {path}: no \"auths\" object; expected a containers-auth.json file")


@dataclass(frozen=True)
class RegistryAccess:
    """How skopeo reaches one side (source or destination) of a copy."""

    tls_verify: bool = True
    cert_dir: Optional[Path] = None


@dataclass(frozen=True)
class CopySettings:
    source: RegistryAccess = field(default_factory=RegistryAccess)
    destination: RegistryAccess = field(default_factory=RegistryAccess)
    authfile: Optional[Path] = None
    parallel_layers: Optional[int] = None
    destination_shared_blobs: Optional[Path] = None  # writing into an on-disk store


class Skopeo:
    """The located skopeo binary, its capabilities, and the command lines for it."""

    def __init__(self, binary: str, capabilities: Capabilities, registries_conf: Optional[Path] = None,
                 policy: SignaturePolicy = SignaturePolicy()):
        self.binary = binary
        self.capabilities = capabilities
        self.registries_conf = registries_conf  # CONTAINERS_REGISTRIES_CONF, which skopeo itself ignores
        self.policy = policy
        self.environment: Dict[str, str] = {**GO_COLLECTOR, **os.environ}  # skopeo's, read once

    def share_cores(self, copies_at_once: int) -> None:
        """Each skopeo gets its share of the cores (go_threads); a GOMAXPROCS the user set is kept."""
        if "GOMAXPROCS" not in os.environ:
            self.environment["GOMAXPROCS"] = go_threads(copies_at_once)

    @classmethod
    def locate(cls, binary: str = "skopeo", registries_conf: Optional[Path] = None,
               policy: SignaturePolicy = SignaturePolicy()) -> "Skopeo":
        from plumbum import local
        from plumbum.commands.processes import CommandNotFound
        try:
            command = local[binary] if "/" in binary else local.get(binary)
        except CommandNotFound:
            raise SkomirrorError(f"skopeo not found on PATH; {INSTALL_HINT}") from None
        policy.check()
        return cls.probe(str(command.executable), registries_conf, policy)

    @classmethod
    def probe(cls, binary: str, registries_conf: Optional[Path] = None,
              policy: SignaturePolicy = SignaturePolicy()) -> "Skopeo":
        """Both questions at once: the two processes start in the time of one, on every run."""
        from plumbum import local
        command = local[binary]
        try:
            asked = [command[args].popen() for args in (["--version"], ["copy", "--help"])]
            answers = [process.communicate() for process in asked]
        except OSError as exc:
            raise SkomirrorError(f"{binary} does not run: {str(exc).strip().splitlines()[0]}") from None
        for process, (out, err) in zip(asked, answers):
            if process.returncode != 0:
                said = (err or out or b"").decode(errors="replace").strip().splitlines()
                raise SkomirrorError(f"{binary} does not run: {said[0] if said else f'exit {process.returncode}'}")
        version = parse_version(answers[0][0].decode(errors="replace"))
        flags = parse_flags(answers[1][0].decode(errors="replace"))
        capabilities = Capabilities(version, flags)
        missing = [flag for flag in ("preserve-digests", "digestfile") if not capabilities.has(flag)]
        if version < MINIMUM_VERSION or missing:
            needs = ", ".join(f"--{flag}" for flag in missing) or "--preserve-digests"
            raise SkomirrorError(
                f"skopeo {capabilities.version_text} is too old: skomirror needs {needs} "
                f"(skopeo >= {version_text(MINIMUM_VERSION)}); {INSTALL_HINT}")
        return cls(binary, capabilities, registries_conf, policy)

    def _global_args(self) -> List[str]:
        args = self.policy.args()
        if self.registries_conf is not None:  # as podman honours it (skomirror/registry/registries_conf.py)
            args += ["--registries-conf", str(self.registries_conf)]
        return args

    def layer_args(self, parallel_layers: Optional[int]) -> List[str]:
        if parallel_layers is None or not self.capabilities.has("image-parallel-copies"):
            return []
        return ["--image-parallel-copies", str(parallel_layers)]

    def unsupported(self, settings: CopySettings) -> List[str]:
        """One warning per setting this skopeo cannot honour; the run goes on without it."""
        if settings.parallel_layers is not None and not self.capabilities.has("image-parallel-copies"):
            return [f"skopeo {self.capabilities.version_text} has no --image-parallel-copies (added in 1.16): "
                    f"--parallel-layers {settings.parallel_layers} is ignored and each copy uses skopeo's "
                    f"built-in {LAYER_DEFAULT} parallel layers"]
        return []

    def copy_args(self, source: str, destination: str, settings: CopySettings, digestfile: Path,
                  source_blobs: Optional[Path] = None) -> List[str]:
        """`skopeo copy` of every platform, keeping digests, writing the pushed digest to `digestfile`.

        `source_blobs`: the shared blob directory when the source is a layout in an on-disk store.
        """
        args = self._global_args() + ["copy"]
        args += ["--multi-arch", "all"] if self.capabilities.has("multi-arch") else ["--all"]
        args += ["--preserve-digests", "--digestfile", str(digestfile)]
        args += self.layer_args(settings.parallel_layers)
        if settings.authfile:
            args += ["--authfile", str(settings.authfile)]
        args += _access_args(settings.source, "src-")
        args += _access_args(settings.destination, "dest-")
        if source_blobs:
            args += ["--src-shared-blob-dir", str(source_blobs)]
        if settings.destination_shared_blobs:
            # an OCI layout cannot hold signatures: copying a signed image there would fail
            args += ["--dest-shared-blob-dir", str(settings.destination_shared_blobs), "--remove-signatures"]
        return args + [source, destination]

    def inspect_raw_args(self, reference: str, access: RegistryAccess, authfile: Optional[Path]) -> List[str]:
        """The cheapest way to a manifest and its digest: two requests, no config or tag listing."""
        args = self._global_args() + ["inspect", "--raw"]
        if authfile:
            args += ["--authfile", str(authfile)]
        return args + _access_args(access, "") + [reference]

    def delete_args(self, reference: str, access: RegistryAccess, authfile: Optional[Path]) -> List[str]:
        """`skopeo delete` of one manifest, by digest: every tag on it in that repository goes with it."""
        args = self._global_args() + ["delete"]
        if authfile:
            args += ["--authfile", str(authfile)]
        return args + _access_args(access, "") + [reference]

    def command(self, args: List[str]) -> List[str]:
        """The argv of one skopeo call, ready to be started by the executor."""
        return [self.binary, *args]


def _access_args(access: RegistryAccess, prefix: str) -> List[str]:
    args = []
    if not access.tls_verify:
        args.append(f"--{prefix}tls-verify=false")
    if access.cert_dir:
        args += [f"--{prefix}cert-dir", str(access.cert_dir)]
    return args
