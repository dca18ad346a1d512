"""The command line. Parsing and error wording only; the work is in `run`."""

import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import click

from skomirror.cli_compat import (REFUSED_BY_DELETE, OcMirrorGroup, cache_dir_option,
                                  image_timeout_option, log_level_option, signature_options, signature_policy_of, stall_timeout_of,
                                  unused_cache_dir, v2_option, version_command, version_option)
from skomirror.commands import describe, list_operators, list_releases
from skomirror.commands.options import (DurationType, ImageType, authfile_option, cert_dir_option, local_path,
                                        retry_delay_option, retry_times_option, tls_option, update_url_option)
from skomirror.commands.merge import merge_command
from skomirror.crash import Crashed, write_crash_log
from skomirror.durations import duration_text
from skomirror.errors import EXIT_GENERIC, EXIT_INTERRUPTED, SkomirrorError
from skomirror.progress import Progress
from skomirror.skopeo.retry import DEFAULT_RETRY_WINDOW, MAX_BACKOFF, RetryPolicy
from skomirror.skopeo.command import RegistryAccess
from skomirror.workflows.options import (DEFAULT_KEEP_LOGS, DEFAULT_PARALLEL_IMAGES, DEFAULT_STALL_TIMEOUT,
                                         GRAPH_BASE_IMAGE, GRAPH_DATA_URL, SIGNATURE_URL, RunOptions)

if TYPE_CHECKING:
    from skomirror.shards import Shard

PROG = "skomirror"


def _error(message: str) -> None:
    click.echo(f"{PROG}: error: {message}", err=True)


@click.group(cls=OcMirrorGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@version_option()
def cli() -> None:
    """Mirror OpenShift image sets with concurrent skopeo copies.

    Reads oc-mirror's ImageSetConfiguration and produces oc-mirror's mirror layout.
    oc-mirror's own command lines work too: `skomirror -c isc.yaml file://DIR --v2`
    is `skomirror run` (README: Coming from oc-mirror).
    """


_SIZE_UNITS = {"": 1024 ** 3, "b": 1, "k": 1024, "kib": 1024, "m": 1024 ** 2, "mib": 1024 ** 2, "g": 1024 ** 3,
               "gib": 1024 ** 3, "t": 1024 ** 4, "tib": 1024 ** 4}


class SizeType(click.ParamType):
    """A size: a number of GiB as in the ISC's archiveSize, or with a unit (500MiB, 1.5GiB)."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", str(value))
        unit = match and _SIZE_UNITS.get(match.group(2).lower())
        if not unit or float(match.group(1)) <= 0:
            self.fail(f"{value!r} is not a size; write e.g. 4 (GiB), 500MiB or 1.5GiB", param, ctx)
        return int(float(match.group(1)) * unit)


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)


class ShardType(click.ParamType):
    """K/N: shard K (from 0) of N; see skomirror.shards."""

    name = "K/N"

    def convert(self, value, param, ctx):
        from skomirror.shards import Shard, parse_shard
        if isinstance(value, Shard):
            return value
        try:
            return parse_shard(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@cli.command("run")
@click.argument("paths", nargs=-1, required=True, metavar="[CONFIG] DEST")
@click.option("-c", "--config", "config_option", type=click.Path(path_type=Path, dir_okay=False), metavar="CONFIG",
              help="The ImageSetConfiguration, as oc-mirror takes it (the same as the positional CONFIG).")
@click.option("--from", "from_dir", metavar="file://DIR",
              help="Disk to mirror: check and unpack the shipments in DIR, push them to DEST (CONFIG optional).")
@click.option("--workspace", default="skomirror-workspace", show_default=True, metavar="DIR",
              help="Where mapping.txt, results.json, errors and per-image logs go.")
@click.option("--dry-run", is_flag=True, help="Plan and check only: write mapping.txt and missing.txt, copy nothing.")
@click.option("--parallel-images", type=click.IntRange(1, 64), default=DEFAULT_PARALLEL_IMAGES, show_default=True,
              help="Images copied at the same time.")
@click.option("--parallel-layers", type=click.IntRange(1, 64),
              help="Layers copied at the same time within one image (skopeo >= 1.16; older skopeo uses 6).")
@click.option("--retry-window", type=DurationType(), default=duration_text(DEFAULT_RETRY_WINDOW), show_default=True,
              help="How long the transient failures (network, 5xx, 429) of one image are retried, from its first "
                   "failure; an outage shorter than this loses nothing. 0: no time bound (--retry-times decides, "
                   "5 by default).")
@click.option("--retry-times", type=click.IntRange(0),
              help="Also stop after this many retries of one image [default: no count; the window decides].")
@retry_delay_option(f"1s, 2s, 4s... up to {duration_text(MAX_BACKOFF)}, with jitter")
@click.option("--stall-timeout", type=DurationType(), default=duration_text(DEFAULT_STALL_TIMEOUT), show_default=True,
              help="Stop and retry a copy whose bytes stop moving this long (0: never). "
                   "A slow copy that still moves is never stopped.")
@image_timeout_option()
@click.option("--max-nested-paths", type=click.IntRange(0), default=0, show_default=True,
              help="Fold destination paths deeper than this into their last component (0: keep paths).")
@authfile_option
@click.option("--archive-size", type=SizeType(), help="Largest archive part (mirror to disk): GiB, or with a unit "
                                                   "(500MiB). Overrides the ISC's archiveSize [default: one part].")
@click.option("--rerun-failed", is_flag=True, help="Copy only the images that failed (or did not finish) in the "
                                                  "last run in this workspace.")
@click.option("--keep-going", is_flag=True, help="Mirror to disk: write archives even when some images failed.")
@click.option("--since", type=DateType(), help="Mirror to disk: count only shipments made before this day as shipped.")
@click.option("--full-archive", is_flag=True, help="Mirror to disk: ship every blob, whatever was shipped before.")
@update_url_option
@click.option("--graph-data", default=GRAPH_DATA_URL, show_default=True, metavar="URL|FILE",
              help="cincinnati-graph-data tarball for graph: true.")
@click.option("--graph-base-image", type=ImageType(), default=GRAPH_BASE_IMAGE, show_default=True, metavar="IMAGE",
              help="Base image of the graph-data image.")
@click.option("--signature-url", envvar="OCP_SIGNATURE_URL", default=SIGNATURE_URL, show_default=True,
              metavar="URL", help="Where release signatures are fetched from [$OCP_SIGNATURE_URL].")
@click.option("--require-signatures", is_flag=True, help="Fail when a release signature cannot be fetched.")
@click.option("--remove-signatures", is_flag=True, help="Do not mirror the images' cosign signatures "
                                                       "(sha256-<digest>.sig tags).")
@signature_options
@click.option("--keep-logs", type=click.IntRange(1), default=DEFAULT_KEEP_LOGS, show_default=True, metavar="N",
              help="Keep the per-image logs of the last N runs in the workspace (older run log folders are removed).")
@click.option("--shard", type=ShardType(), help="Run shard K (from 0) of N of the plan, on one of N hosts "
                                               "[default: $JOB_COMPLETION_INDEX/$JOB_COMPLETIONS when both are set]; "
                                               "join the shards with skomirror merge.")
@tls_option("src")
@tls_option("dest")
@cert_dir_option("src")
@cert_dir_option("dest")
@log_level_option()
@cache_dir_option()
@v2_option()
@version_option()
def run_command(paths, from_dir: Optional[str], workspace: str, dry_run: bool,
                parallel_images: int, parallel_layers: Optional[int], retry_window: float,
                retry_times: Optional[int], retry_delay: float, stall_timeout: float,
                max_nested_paths: int, authfile: Optional[Path], rerun_failed: bool, archive_size: Optional[int],
                keep_going: bool,
                since, full_archive: bool, update_url: Optional[str], graph_data: str, graph_base_image: str,
                signature_url: str, require_signatures: bool, remove_signatures: bool, shard: Optional["Shard"],
                keep_logs: int,
                src_tls_verify: bool, dest_tls_verify: bool,
                src_cert_dir: Optional[Path], dest_cert_dir: Optional[Path],
                config_option: Optional[Path], image_timeout: Optional[float], secure_policy: bool,
                policy: Optional[Path], ignore_release_signature: bool, log_level: str,
                cache_dir: Optional[Path]) -> int:
    """Mirror the images of CONFIG (an ImageSetConfiguration) to DEST.

    \b
    DEST is
      docker://registry[:port][/namespace]  mirror to mirror
      file://DIR                            mirror to disk: a store and archives in DIR
    and with --from file://DIR, DEST is the registry the archives are pushed to.
    Times are seconds or as oc-mirror writes them (10s, 2m, 1h30m).

    \b
    Exit codes: 0 all mirrored; 1 usage, config or setup error; 8 some additional
    image failed (2 release, 4 operator, bits OR-ed); 130 interrupted.
    """
    if config_option is not None:
        if len(paths) != 1:
            raise click.UsageError(f"with -c/--config {config_option}, give DEST alone (got {' '.join(paths)})")
        paths = (str(config_option), *paths)
    if len(paths) > 2:
        raise click.UsageError(f"expected [CONFIG] DEST, got {len(paths)} arguments")
    if len(paths) == 1 and from_dir is None and not paths[0].startswith(("docker://", "file://")) \
            and Path(paths[0]).is_file():
        raise click.UsageError(f"DEST is missing after CONFIG {paths[0]}: add docker://registry[/namespace] "
                               "or file://DIR")
    config, dest = (Path(paths[0]), paths[1]) if len(paths) == 2 else (None, paths[0])
    stall_timeout = stall_timeout_of(stall_timeout, image_timeout)
    signature_policy = signature_policy_of(secure_policy, policy, ignore_release_signature, require_signatures)
    progress = Progress(level=log_level)  # on stderr, with the warnings: none lands on the bar
    unused_cache_dir(cache_dir, local_path(workspace), progress.warn)
    if shard is None:
        from skomirror.shards import shard_from_environment
        try:
            shard, warning = shard_from_environment(os.environ)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        if warning:
            progress.warn(warning)
    options = RunOptions(
        config=config,
        destination=dest,
        workspace=local_path(workspace),
        from_dir=from_dir,
        dry_run=dry_run,
        parallel_images=parallel_images,
        parallel_layers=parallel_layers,
        retry=RetryPolicy(retry_times, retry_window, retry_delay),
        stall_timeout=stall_timeout or None,
        max_nested_paths=max_nested_paths,
        authfile=authfile,
        source_access=RegistryAccess(src_tls_verify, src_cert_dir),
        destination_access=RegistryAccess(dest_tls_verify, dest_cert_dir),
        archive_size=archive_size,
        keep_going=keep_going,
        rerun_failed=rerun_failed,
        since=since,
        full_archive=full_archive,
        update_url=update_url,
        graph_data=graph_data,
        graph_base_image=graph_base_image,
        signature_url=signature_url,
        require_signatures=require_signatures,
        remove_signatures=remove_signatures,
        signature_policy=signature_policy,
        shard=shard,
        keep_logs=keep_logs,
    )
    from skomirror.run import run  # the run's modules, not --help's
    return run(options, progress, progress.warn)


@cli.command("delete", refused=REFUSED_BY_DELETE)
@click.argument("destination", metavar="DEST")
@click.option("-c", "--config", "config", type=click.Path(path_type=Path, dir_okay=False),
              help="With --generate: the DeleteImageSetConfiguration.")
@click.option("--generate", is_flag=True, help="Step 1: write <workspace>/delete/delete-images.yaml, the "
                                               "manifests the configuration names at DEST; deletes nothing.")
@click.option("--delete-yaml-file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Step 2: delete exactly the manifests FILE lists (as --generate wrote it, reviewed).")
@click.option("--workspace", default="skomirror-workspace", show_default=True, metavar="DIR",
              help="The mirror's workspace: what its last run mirrored is never deleted.")
@click.option("--parallel-images", type=click.IntRange(1, 64), default=DEFAULT_PARALLEL_IMAGES, show_default=True,
              help="Deletes at the same time.")
@retry_times_option
@retry_delay_option("1s, 2s, 4s... with jitter")
@authfile_option
@update_url_option
@click.option("--delete-id", metavar="ID", help="With --generate: name the files delete-images-ID.yaml and "
                                              "delete-imageset-config-ID.yaml, as oc-mirror does.")
@tls_option("src")
@tls_option("dest")
@cert_dir_option("src")
@cert_dir_option("dest")
@log_level_option()
@cache_dir_option()
@v2_option()
def delete_command(destination: str, config: Optional[Path], generate: bool, delete_yaml_file: Optional[Path],
                   workspace: str, parallel_images: int, retry_times: int, retry_delay: float,
                   authfile: Optional[Path], update_url: Optional[str], delete_id: Optional[str],
                   src_tls_verify: bool, dest_tls_verify: bool, src_cert_dir: Optional[Path],
                   dest_cert_dir: Optional[Path], log_level: str, cache_dir: Optional[Path]) -> int:
    """Delete from DEST what a DeleteImageSetConfiguration names, in oc-mirror's two steps.

    \b
      skomirror delete --generate -c delete-isc.yaml docker://registry/ns
      skomirror delete --delete-yaml-file skomirror-workspace/delete/delete-images.yaml docker://registry/ns

    \b
    Manifests are deleted by digest; blobs are freed by the registry's garbage
    collection.

    \b
    Exit codes: 0 done; 1 usage or setup error; 2/4/8/16 a release/operator/
    additional/helm image could not be deleted (bits OR-ed); 130 interrupted.
    """
    if generate == (delete_yaml_file is not None):
        raise click.UsageError("give either --generate (with -c/--config) or --delete-yaml-file FILE")
    if generate and config is None:
        raise click.UsageError("--generate needs -c/--config DELETE_IMAGESET_CONFIG")
    if delete_yaml_file is not None and config is not None:
        raise click.UsageError("--delete-yaml-file deletes what the file lists: -c/--config is not used with it")
    if delete_id is not None and (not generate or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", delete_id)):
        raise click.UsageError(f"--delete-id {delete_id!r}: letters, digits, '.', '_' and '-' (up to 64), "
                               "with --generate only")
    progress = Progress(level=log_level)
    unused_cache_dir(cache_dir, local_path(workspace), progress.warn)
    from skomirror.config.model import DELETE_KIND
    from skomirror.delete.generate import generate as generate_delete_list
    from skomirror.delete.removal import remove_listed
    options = RunOptions(config=config, destination=destination, workspace=local_path(workspace),
                         parallel_images=parallel_images, retry=RetryPolicy(retry_times, 0.0, retry_delay),
                         authfile=authfile, source_access=RegistryAccess(src_tls_verify, src_cert_dir),
                         destination_access=RegistryAccess(dest_tls_verify, dest_cert_dir),
                         update_url=update_url, config_kind=DELETE_KIND, delete_id=delete_id or "")
    if generate:
        generate_delete_list(options, progress, progress.warn)
        return 0
    return remove_listed(options, delete_yaml_file, progress, progress.warn)


@cli.group("list")
def list_group() -> None:
    """List what an ImageSetConfiguration can pick: a channel's releases, a catalog's operators."""


list_group.add_command(list_releases.command)
list_group.add_command(list_operators.command)
cli.add_command(describe.command)
cli.add_command(merge_command)
cli.add_command(version_command)


_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click 8.2+ only; () catches nothing


def main(argv: Optional[List[str]] = None) -> None:
    try:
        code = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except _NO_ARGS as exc:  # click >= 8.2 with nothing to do: the help, as click 8.1 printed it, not an error
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        code = 0
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else PROG
        _error(f"{exc.format_message()} (see '{command} --help')")
        code = EXIT_GENERIC
    except (click.Abort, KeyboardInterrupt):
        _error("interrupted")
        code = EXIT_INTERRUPTED
    except SkomirrorError as exc:
        _error(str(exc))
        code = exc.exit_code
    except click.ClickException as exc:
        _error(exc.format_message())
        code = exc.exit_code or EXIT_GENERIC
    except OSError as exc:  # the machine said no: a full disk, a permission, a vanished file
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        _error(f"{where}{exc.strerror or exc}")
        code = EXIT_GENERIC
    except Exception as exc:  # a bug outside a run (a run writes its own crash log into its workspace)
        crashed = Crashed(exc, write_crash_log(None, exc))
        _error(str(crashed))
        code = crashed.exit_code
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
