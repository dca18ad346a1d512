"""TLS for the survey, set up as skopeo sets it up for each host.

Without `--cert-dir`, skopeo reads the first existing directory of
~/.config/containers/certs.d/<host:port>, /etc/containers/certs.d/<host:port>
and /etc/docker/certs.d/<host:port>: `*.crt` are extra CAs, `*.cert` with their
`*.key` are client certificates (sent even when verification is off).
"""

import os
import ssl
from pathlib import Path
from typing import List, Optional

USER_CERTS = Path(".config/containers/certs.d")  # under $HOME
SYSTEM_CERTS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))


class TlsSetupError(Exception):
    """A certificate directory skopeo would refuse (a key without its certificate, an unreadable file)."""


def cert_dir_for(host: str, explicit: Optional[Path], home: Path) -> Optional[Path]:
    """`--cert-dir` when given, else the first certs.d directory that exists for `host` (host[:port])."""
    if explicit is not None:
        return explicit
    for base in (home / USER_CERTS, *SYSTEM_CERTS):
        candidate = base / host
        try:
            candidate.stat()
        except (FileNotFoundError, PermissionError, NotADirectoryError):
            continue
        except OSError as exc:
            raise TlsSetupError(f"{candidate}: {exc.strerror or exc}") from None
        return candidate
    return None


def tls_context(cert_dir: Optional[Path], verify: bool) -> ssl.SSLContext:
    if verify:
        context = ssl.create_default_context()
    else:  # the system's CAs are not loaded: nothing is verified, and loading them took 27 ms per host
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if cert_dir is None:
        return context
    try:
        names: List[str] = sorted(os.listdir(cert_dir))
    except (FileNotFoundError, PermissionError):
        return context
    except OSError as exc:
        raise TlsSetupError(f"{cert_dir}: {exc.strerror or exc}") from None
    for name in names:
        path = cert_dir / name
        try:
            if name.endswith(".crt"):
                context.load_verify_locations(cafile=str(path))
            elif name.endswith(".cert"):
                if name[:-5] + ".key" not in names:
                    raise TlsSetupError(f"{cert_dir}: missing key {name[:-5]}.key for client certificate {name}")
                context.load_cert_chain(str(path), str(cert_dir / (name[:-5] + ".key")))
            elif name.endswith(".key") and name[:-4] + ".cert" not in names:
                raise TlsSetupError(f"{cert_dir}: missing client certificate {name[:-4]}.cert for key {name}")
        except FileNotFoundError:  # removed since the listing: skopeo skips it too
            continue
        except (OSError, ssl.SSLError) as exc:
            raise TlsSetupError(f"{path}: {exc}") from None
    return context
