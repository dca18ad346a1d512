"""oc-mirror v2's command line, read as oc-mirror (cobra) reads it, before click parses it.

- `skomirror -c isc.yaml file://dir --v2` is `skomirror run ...`: oc-mirror's mirror is its root command.
- A boolean flag never takes the next word, and takes a value only after `=`, as Go's pflag: `--dry-run`,
  `--remove-signatures=true`, `--dest-tls-verify=false`, `--dest-tls-verify docker://...`.
- oc-mirror's flags skomirror does not support are refused, one line each, with what to use instead; none
  is dropped without a word (`--v2` is accepted everywhere: it only selects oc-mirror's v2).
"""

import json
import platform
from pathlib import Path
from typing import Callable, Dict, List, Optional

import click

from skomirror import __version__
from skomirror.commands.options import DurationType
from skomirror.progress import LOG_LEVELS
from skomirror.skopeo.command import SignaturePolicy, installed_version

_CREDENTIALS = ("no credentials on the command line: keep them in an auth file (skopeo login --authfile FILE "
                "REGISTRY) and give --authfile FILE")
_NO_CACHE = "skomirror runs no local cache registry"
_AS_IS = "skomirror copies every image byte for byte (skopeo --preserve-digests): nothing is recompressed"

# oc-mirror v2's flags (main branch: internal/pkg/cli/executor.go, cli/delete.go, mirror/options.go) that
# skomirror refuses; README "Coming from oc-mirror" lists them with the ones it accepts and maps.
REFUSED: Dict[str, str] = {
    "--v1": "skomirror follows oc-mirror v2 (ImageSetConfiguration mirror.openshift.io/v2alpha1): leave --v1 out",
    "--registries.d": "skomirror mirrors cosign signatures as the images' sha256-<digest>.sig tags and reads no "
                      "lookaside signature storage: leave --registries.d out",
    "--delete-signatures": "skomirror deletes the listed manifests only; delete a signature tag with "
                           "skopeo delete docker://REGISTRY/REPO:sha256-<hex>.sig",
    "-p": f"{_NO_CACHE}, so it needs no port: leave -p/--port out",
    "--port": f"{_NO_CACHE}, so it needs no port: leave -p/--port out",
    "--strict-archive": "a part holds whole blobs and a blob larger than the part size gets a part of its own "
                        "(oc-mirror's default); give --archive-size above the largest blob to keep parts even",
    "--rootless-storage-path": "skomirror uses no containers-storage: leave it out",
    "--cpu-prof": "report.html in the workspace shows where the time went",
    "--mem-prof": "report.html in the workspace shows where the time went",
    "-q": "use --log-level error",
    "--quiet": "use --log-level error",
    "-f": "every run checks each image at DEST and copies what is missing; --full-archive ships every blob again",
    "--force": "every run checks each image at DEST and copies what is missing; --full-archive ships every blob again",
    "--tls-verify": "use --src-tls-verify and --dest-tls-verify",
    "--parallel-batch-images": "use --parallel-images",
    "--src-authfile": "one --authfile holds the credentials for both sides",
    "--dest-authfile": "one --authfile holds the credentials for both sides",
    "--src-no-creds": "give an --authfile with no entry for that registry",
    "--dest-no-creds": "give an --authfile with no entry for that registry",
    "--src-shared-blob-dir": "skomirror keeps its blobs in its own stores (file://DIR/store, <workspace>/store)",
    "--dest-shared-blob-dir": "skomirror keeps its blobs in its own stores (file://DIR/store, <workspace>/store)",
    "--src-daemon-host": "skomirror copies between registries and disk only: no docker daemon",
    "--dest-daemon-host": "skomirror copies between registries and disk only: no docker daemon",
    "--dest-compress": _AS_IS,
    "--dest-decompress": _AS_IS,
    "--dest-compress-format": _AS_IS,
    "--dest-compress-level": _AS_IS,
    "--dest-oci-accept-uncompressed-layers": _AS_IS,
    "--dest-precompute-digests": "skomirror asks DEST which blobs it holds before copying: nothing to set",
    "--force-cache-delete": f"{_NO_CACHE} to delete from; DEST frees blobs in its own garbage collection",
    "--delete-v1-images": "skomirror finds images by oc-mirror v2's names only: delete v1's with oc-mirror v1",
    **{f"--{side}-{what}": _CREDENTIALS for side in ("src", "dest")
       for what in ("creds", "username", "password", "registry-token")},
    "--screds": _CREDENTIALS,
    "--dcreds": _CREDENTIALS,
}

# oc-mirror's delete takes these too (it shares them with mirror); skomirror's delete copies nothing.
REFUSED_BY_DELETE: Dict[str, str] = {
    "--policy": "delete copies nothing, so no signature policy applies: leave it out",
    "--secure-policy": "delete copies nothing, so no signature policy applies: leave it out",
    "--parallel-layers": "delete moves no layers: leave it out (--parallel-images sets how many deletes run at once)",
}

GO_TRUE, GO_FALSE = ("1", "t", "T", "TRUE", "true", "True"), ("0", "f", "F", "FALSE", "false", "False")
GROUP_OPTIONS = ("-h", "--help", "-v", "--version")
RUN_STARTS = ("-", "docker://", "file://")  # an option or a DEST: oc-mirror's mirror, skomirror's run


def refusal(token: str, refused_here: Optional[Dict[str, str]] = None) -> Optional[str]:
    """The line refusing `token` when it is one of oc-mirror's flags skomirror (or this command) does not take."""
    if token.startswith("--"):
        name = token.split("=", 1)[0]
    elif token.startswith("-") and len(token) >= 2:
        name = token[:2]
    else:
        return None
    instead = REFUSED.get(name) or (refused_here or {}).get(name)
    return f"{name} is oc-mirror's, and skomirror does not support it: {instead}" if instead else None


def _booleans(command: click.Command) -> Dict[str, click.Option]:
    return {name: param for param in command.params if isinstance(param, click.Option)
            and (param.is_flag or isinstance(param.type, click.types.BoolParamType)) for name in param.opts}


def cobra_args(command: click.Command, args: List[str], ctx: Optional[click.Context] = None) -> List[str]:
    """`args` as click should read them for `command`: booleans as pflag reads them, refused flags refused;
    `ctx`: the command's, so an error points at its --help."""
    booleans, read = _booleans(command), []
    for index, token in enumerate(args):
        if token == "--":
            return read + args[index:]
        problem = refusal(token, getattr(command, "refused", None))
        if problem:
            raise click.UsageError(problem, ctx)
        name, equals, value = token.partition("=")
        option = booleans.get(name)
        if option is None or not name.startswith("--"):
            read.append(token)
        elif not option.is_flag:  # a BOOL-typed option: never the next word, `--x` alone is true
            read.append(token if equals else f"{name}=true")
        elif not equals or value in GO_TRUE:
            read.append(name)
        elif value not in GO_FALSE:
            raise click.UsageError(f"{token}: {value!r} is not a boolean; write {name}=true or {name}=false", ctx)
    return read


class OcMirrorCommand(click.Command):
    """`refused`: oc-mirror's flags this command refuses beyond REFUSED, each with what to do instead."""

    def __init__(self, *args, refused: Optional[Dict[str, str]] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused = refused or {}

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        return super().parse_args(ctx, cobra_args(self, args, ctx))


class OcMirrorGroup(click.Group):
    """`--v2` anywhere is accepted; a command line that starts with an option is a `run`, as oc-mirror's."""

    command_class = OcMirrorCommand

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        while args and args[0] == "--v2":
            args = args[1:]
        if args and args[0].startswith(RUN_STARTS) and args[0] not in GROUP_OPTIONS:
            args = ["run", *args]
        return super().parse_args(ctx, args)


def version_option():
    """`-v`/`--version`: cobra gives oc-mirror's root command (its mirror) both."""
    return click.version_option(__version__, "-v", "--version", prog_name="skomirror")


def log_level_option():
    return click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info", show_default=True,
                        help="How much the console says: error, warnings and errors only; debug (or trace, "
                             "oc-mirror's), more.")


def image_timeout_option():
    return click.option("--image-timeout", type=DurationType(), metavar="DURATION",
                        help="oc-mirror's per-image time limit, read as --stall-timeout: a copy is stopped and "
                             "retried when its bytes stop moving this long, never for being slow.")


def stall_timeout_of(stall_timeout: float, image_timeout: Optional[float]) -> float:
    """--image-timeout stands for --stall-timeout; both given, they must agree."""
    if image_timeout is None:
        return stall_timeout
    given = click.get_current_context().get_parameter_source("stall_timeout")
    if given is click.core.ParameterSource.COMMANDLINE and stall_timeout != image_timeout:
        raise click.UsageError("--image-timeout is oc-mirror's name for --stall-timeout: give one of them")
    return image_timeout


def signature_options(command):
    """--secure-policy and --policy (skopeo under a signature policy) and oc-mirror's --ignore-release-signature."""
    command = click.option("--secure-policy", is_flag=True,
                           help="Copy under the signature policy skopeo reads (containers-policy.json: "
                                "~/.config/containers/policy.json, else /etc/containers/policy.json) instead of "
                                "--insecure-policy; not in disk to mirror, as oc-mirror.")(command)
    command = click.option("--policy", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
                           help="With --secure-policy: this policy file instead.")(command)
    return click.option("--ignore-release-signature", is_flag=True, hidden=True,
                        help="oc-mirror's: a release signature that cannot be fetched is a warning, which is "
                             "skomirror's default (--require-signatures makes it an error).")(command)


def signature_policy_of(secure_policy: bool, policy: Optional[Path], ignore_release_signature: bool,
                        require_signatures: bool) -> SignaturePolicy:
    if policy is not None and not secure_policy:
        raise click.UsageError(f"--policy {policy} is read only with --secure-policy (as oc-mirror's): add "
                               "--secure-policy or leave --policy out")
    if ignore_release_signature and require_signatures:
        raise click.UsageError("--ignore-release-signature and --require-signatures contradict each other: "
                               "give one of them")
    return SignaturePolicy(secure_policy, policy)


def v2_option():
    """oc-mirror's switch to its v2, which skomirror follows anyway: accepted, and nothing more."""
    return click.option("--v2", is_flag=True, hidden=True, expose_value=False)


def cache_dir_option():
    return click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
                        help="Accepted for oc-mirror's command lines, not used: skomirror keeps what it reuses in "
                             "the workspace (and, mirror to disk, in file://DIR); see README, the workspace.")


def unused_cache_dir(cache_dir: Optional[Path], workspace: Path, warn: Callable[[str], None]) -> None:
    if cache_dir is not None:
        warn(f"--cache-dir {cache_dir} is not used: skomirror keeps no cache apart from its workspace ({workspace}) "
             "and, mirror to disk, the file:// directory")


@click.command("version", cls=OcMirrorCommand)
@click.option("--output", type=click.Choice(["json", "yaml"]), help="The versions as a JSON or YAML document.")
@click.option("--short", is_flag=True, help="Print just skomirror's version.")
@v2_option()
def version_command(output: Optional[str], short: bool) -> None:
    """Print the versions of skomirror, Python and the skopeo on PATH (on stdout), as `oc-mirror version`."""
    versions = {"skomirror": __version__, "python": platform.python_version(), "skopeo": installed_version()}
    if short:
        click.echo(__version__)
    elif output == "json":
        click.echo(json.dumps(versions, indent=2))
    elif output == "yaml":
        click.echo("".join(f"{key}: {json.dumps(value)}\n" for key, value in versions.items()), nl=False)
    else:
        click.echo(f"skomirror {__version__} (Python {versions['python']}, skopeo {versions['skopeo'] or 'not found'})")
