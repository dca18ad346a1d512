"""Chart archives: read from HTTP chart repositories (index.yaml), from pulled OCI artifacts, and packed as them.

An HTTP repository is read as Helm reads it: `index.yaml` lists each chart's
versions with their archive URLs (relative to the repository) and digests;
no version means the newest that is not a prerelease, and a repository with
no charts listed means every version of every chart that is not a library
(oc-mirror's reading). A chart pushed to a registry is an OCI artifact: a
config of media type HELM_CONFIG holding Chart.yaml as JSON, and one layer,
the archive. Charts from HTTP repositories and local ones are packed the
same way, so that a registry serves them to `helm install oci://...`.
"""

import hashlib
import io
import json
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from skomirror.catalog.semver import InvalidVersion, Version
from skomirror.manifests import OCI_MANIFEST
from skomirror.naming import MirrorName
from skomirror.registry.tls import TlsSetupError, cert_dir_for, tls_context
from skomirror.skopeo.command import RegistryAccess
from skomirror.store import MissingFromStore, Store

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CHART_YAML_LIMIT = 1 << 20


class ChartProblem(Exception):
    """A chart or repository that cannot be read: one line naming it."""


@dataclass(frozen=True)
class ChartVersion:
    """One entry of an index.yaml."""

    name: str
    version: str
    urls: Tuple[str, ...]
    digest: str = ""
    type: str = ""


def http_get(url: str, access: RegistryAccess, timeout: float = 120.0) -> bytes:
    """GET with the source side's TLS settings (--src-tls-verify, --src-cert-dir); no credentials are sent."""
    context = None
    if url.startswith("https://"):  # the repository's host trusted as skopeo trusts a registry: --cert-dir, else certs.d
        host = urllib.parse.urlsplit(url).netloc
        try:
            context = tls_context(cert_dir_for(host, access.cert_dir, Path.home()), access.tls_verify)
        except TlsSetupError as exc:
            raise ChartProblem(f"{url}: {exc}") from None
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout, context=context) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        hint = " (skomirror sends no credentials to HTTP chart repositories)" if exc.code in (401, 403) else ""
        raise ChartProblem(f"{url}: HTTP {exc.code} {exc.reason}{hint}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ChartProblem(f"{url}: {getattr(exc, 'reason', None) or exc}") from None


def index_url(repository: str) -> str:
    return repository if repository.endswith("/index.yaml") else repository.rstrip("/") + "/index.yaml"


def parse_index(text: bytes, where: str) -> Dict[str, List[ChartVersion]]:
    try:
        index = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ChartProblem(f"{where}: not a chart repository index: {str(exc).splitlines()[0]}") from None
    entries = index.get("entries") if isinstance(index, dict) else None
    if not isinstance(entries, dict):
        raise ChartProblem(f"{where}: not a chart repository index (no entries)")
    charts: Dict[str, List[ChartVersion]] = {}
    for name, versions in entries.items():
        for entry in versions if isinstance(versions, list) else []:
            if isinstance(entry, dict) and entry.get("version") is not None:
                urls = tuple(str(url) for url in entry.get("urls") or [])
                charts.setdefault(str(name), []).append(ChartVersion(
                    str(name), str(entry["version"]), urls, str(entry.get("digest") or ""), str(entry.get("type") or "")))
    return charts


def _semver(text: str) -> Optional[Version]:
    try:
        return Version.parse(text)
    except InvalidVersion:
        return None


def pick_version(charts: Dict[str, List[ChartVersion]], name: str, version: Optional[str], where: str) -> ChartVersion:
    """The entry Helm would download: this exact version, or the newest that is not a prerelease."""
    versions = charts.get(name)
    if not versions:
        raise ChartProblem(f"{where}: chart {name!r} is not in the repository index")
    if version:
        wanted = _semver(version)
        for entry in versions:
            if entry.version == version or (wanted is not None and _semver(entry.version) == wanted):
                return entry
        known = ", ".join(entry.version for entry in versions[:10])
        raise ChartProblem(f"{where}: chart {name!r} has no version {version!r} in the repository (it has {known})")
    releases = [(parsed, entry) for entry in versions for parsed in [_semver(entry.version)]
                if parsed is not None and not parsed.prerelease]
    if not releases:
        raise ChartProblem(f"{where}: chart {name!r} has no released version (only prereleases); write a version")
    return max(releases, key=lambda pair: pair[0])[1]


def every_chart(charts: Dict[str, List[ChartVersion]]) -> List[ChartVersion]:
    """No charts listed: every version of every chart but libraries, as oc-mirror reads the index."""
    return [entry for name in sorted(charts) for entry in charts[name] if entry.type != "library"]


def download(repository: str, entry: ChartVersion, access: RegistryAccess) -> bytes:
    if not entry.urls:
        raise ChartProblem(f"{index_url(repository)}: chart {entry.name} {entry.version} lists no archive URL")
    url = urllib.parse.urljoin(repository.rstrip("/") + "/", entry.urls[0])
    data = http_get(url, access)
    if entry.digest and hashlib.sha256(data).hexdigest() != entry.digest.split(":")[-1]:
        raise ChartProblem(f"{url}: the archive's sha256 is not the digest its index gives ({entry.digest})")
    return data


def archive_metadata(data: bytes, where: str) -> Dict[str, object]:
    """Chart.yaml of a chart archive (`<chart>/Chart.yaml`), read without unpacking anything."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive:
                parts = member.name.strip("/").split("/")
                if member.isfile() and len(parts) == 2 and parts[1] == "Chart.yaml":
                    if member.size > _CHART_YAML_LIMIT:
                        break
                    handle = archive.extractfile(member)
                    metadata = yaml.safe_load(handle.read()) if handle else None
                    if isinstance(metadata, dict) and metadata.get("name") and metadata.get("version"):
                        return metadata
                    break
    except (tarfile.TarError, OSError, EOFError, yaml.YAMLError) as exc:
        raise ChartProblem(f"{where}: not a chart archive: {exc}") from None
    raise ChartProblem(f"{where}: not a chart archive (no <chart>/Chart.yaml with a name and a version)")


def oci_tag(version: str) -> str:
    """The tag Helm pushes a version under: `+` is not allowed in tags, Helm writes `_`."""
    return version.replace("+", "_")


def put_chart(store: Store, name: MirrorName, archive: bytes, metadata: Dict[str, object]) -> str:
    """The chart as the OCI artifact `helm push` makes, tagged `name` in `store`; returns its digest."""
    config = json.dumps(metadata, sort_keys=True, default=str).encode()
    annotations = {"org.opencontainers.image.title": str(metadata["name"]),
                   "org.opencontainers.image.version": str(metadata["version"])}
    if metadata.get("description"):
        annotations["org.opencontainers.image.description"] = str(metadata["description"])
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": HELM_CONFIG, "digest": store.put_blob(config), "size": len(config)},
        "layers": [{"mediaType": HELM_CHART_LAYER, "digest": store.put_blob(archive), "size": len(archive)}],
        "annotations": annotations,
    }
    return store.tag(name, json.dumps(manifest, sort_keys=True).encode(), OCI_MANIFEST)


def chart_archive(store: Store, digest: str, where: str) -> bytes:
    """The archive of a chart artifact pulled into `store`."""
    try:
        manifest = json.loads(store.read_blob(digest))
        config_type = (manifest.get("config") or {}).get("mediaType")
        if config_type != HELM_CONFIG:
            raise ChartProblem(f"{where}: not a Helm chart (its config media type is {config_type!r}, "
                               f"not {HELM_CONFIG})")
        layer = next((layer for layer in manifest.get("layers") or [] if layer.get("mediaType") == HELM_CHART_LAYER),
                     None)
        if layer is None:
            raise ChartProblem(f"{where}: the chart artifact has no {HELM_CHART_LAYER} layer")
        return store.read_blob(layer["digest"])
    except (MissingFromStore, ValueError, AttributeError, KeyError) as exc:
        raise ChartProblem(f"{where}: the pulled chart cannot be read: {exc}") from None
