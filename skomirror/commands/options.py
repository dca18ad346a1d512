"""Command-line options and option types that more than one command takes, written once."""

from pathlib import Path

import click

from skomirror.config.model import image_reference
from skomirror.durations import parse_duration

FILE_PREFIX = "file://"


def local_path(value: str) -> Path:
    """oc-mirror spells a directory file://dir; a plain path works too."""
    return Path(value[len(FILE_PREFIX):] if value.startswith(FILE_PREFIX) else value)


def tls_option(side: str):
    flag = f"--{side}-tls-verify"
    return click.option(flag, type=click.BOOL, default=True, is_flag=False, flag_value=True, show_default=True,
                        metavar="BOOL", help=f"Require HTTPS and verify certificates for the {side} "
                                             f"({flag}=false allows plain HTTP).")


def cert_dir_option(side: str):
    return click.option(f"--{side}-cert-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        help=f"Directory with *.crt (CA) and *.cert/*.key (client) files for the {side}.")


authfile_option = click.option(
    "--authfile", type=click.Path(path_type=Path, dir_okay=False), envvar="REGISTRY_AUTH_FILE",
    help="containers-auth.json with registry credentials [default: $REGISTRY_AUTH_FILE, else skopeo's default].")

update_url_option = click.option(
    "--update-url", envvar="UPDATE_URL_OVERRIDE", metavar="URL",
    help="Update service (Cincinnati) graph endpoint, e.g. a local OpenShift Update Service "
         "[default: $UPDATE_URL_OVERRIDE, else OpenShift's].")

retry_times_option = click.option("--retry-times", type=click.IntRange(0, 100), default=5, show_default=True,
                                  help="Retries of a transient failure (network, 5xx, 429) per image.")


class DurationType(click.ParamType):
    """A time: seconds, or as oc-mirror writes it (10s, 2m, 1h30m); every option taking a time takes this."""

    name = "DURATION"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def retry_delay_option(backoff: str):
    return click.option("--retry-delay", type=DurationType(), default="0", show_default=True,
                        help=f"Fixed delay between retries (10s, 1m); 0 means exponential backoff ({backoff}).")

output_option = click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="Plain text for people, or JSON for scripts.")


class ImageType(click.ParamType):
    """An image reference checked as the ISC's are, so a bad one is a usage error, not a traceback later.

    The value stays the text the user wrote: the collectors parse it again where they use it.
    """

    name = "IMAGE"

    def convert(self, value, param, ctx):
        problem = image_reference(value)
        if problem:
            self.fail(problem, param, ctx)
        return value
