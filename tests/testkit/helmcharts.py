"""Real Helm charts built in Python, an HTTP chart repository and OCI charts on 127.0.0.1.

The chart `webapp` computes its image references from values in a named
template, and depends on `sidecar` (packed in its charts/ directory), whose
image is computed from the parent's `global.registry`. Archives are
reproducible: the same call gives the same bytes, so digests can be asserted.
"""

import hashlib
import http.server
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from skomirror.imagebuild import gzip_bytes, tar_bytes
from testkit.images import Blob

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

WEBAPP_HELPERS = """\
{{- define "webapp.image" -}}
{{- $registry := .image.registry | default .global.registry -}}
{{- printf "%s/%s:%s" $registry .image.repository (.image.tag | toString) -}}
{{- end -}}
"""
WEBAPP_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-webapp
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        image: {{ include "webapp.image" (dict "image" .Values.migrate "global" .Values.global) | quote }}
      containers:
      - name: web
        image: {{ include "webapp.image" (dict "image" .Values.image "global" .Values.global) | quote }}
        env:
        - name: LOG_LEVEL
          value: info
        - name: HELPER_IMAGE
          value: {{ printf "%s/tools/helper:%s" .Values.global.registry .Chart.AppVersion }}
"""
WEBAPP_CRONJOB = """\
{{- if .Values.report.enabled }}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ .Release.Name }}-report
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: report
            image: {{ .Values.global.registry }}/{{ .Values.report.repository }}:{{ .Values.report.tag }}
{{- end }}
"""
SIDECAR_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-sidecar
spec:
  containers:
  - name: sidecar
    image: "{{ .Values.global.registry }}/{{ .Values.repository }}:{{ .Values.tag }}"
"""


def chart_archive(name: str, version: str, files: Dict[str, str], charts: Optional[Dict[str, bytes]] = None,
                  metadata: Optional[dict] = None) -> bytes:
    """A chart archive as `helm package` lays it out: `<name>/Chart.yaml`, templates, `charts/<dep>.tgz`."""
    chart = {"apiVersion": "v2", "name": name, "version": version, **(metadata or {})}
    members = {f"{name}/Chart.yaml": yaml.safe_dump(chart).encode()}
    members.update({f"{name}/{path}": text.encode() for path, text in files.items()})
    members.update({f"{name}/charts/{file}": data for file, data in (charts or {}).items()})
    return gzip_bytes(tar_bytes(members))


def sidecar_chart() -> bytes:
    return chart_archive("sidecar", "0.2.0", {"values.yaml": "repository: tools/sidecar\ntag: '2.0'\n",
                                              "templates/pod.yaml": SIDECAR_POD})


def webapp_chart(registry: str, version: str = "0.1.0") -> bytes:
    """`webapp` naming images on `registry` (host:port), with `sidecar` as a dependency."""
    values = {"global": {"registry": registry},
              "image": {"registry": "", "repository": "shop/web", "tag": "1.0"},
              "migrate": {"registry": "", "repository": "shop/migrate", "tag": "1.0"},
              "report": {"enabled": False, "repository": "shop/report", "tag": "1.0"}}
    files = {"values.yaml": yaml.safe_dump(values), "templates/_helpers.tpl": WEBAPP_HELPERS,
             "templates/deployment.yaml": WEBAPP_DEPLOYMENT, "templates/cronjob.yaml": WEBAPP_CRONJOB,
             "templates/NOTES.txt": "image: {{ .Values.global.registry }}/not/an:image\n"}
    dependencies = [{"name": "sidecar", "version": "0.2.0"}]
    return chart_archive("webapp", version, files, {"sidecar-0.2.0.tgz": sidecar_chart()},
                         {"appVersion": "3.1", "dependencies": dependencies, "description": "a test chart"})


def chart_metadata(archive: bytes) -> dict:
    import io
    import tarfile
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = next(m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml"))
        return yaml.safe_load(tar.extractfile(member).read())


def push_chart(registry, repository: str, archive: bytes) -> str:
    """`helm push`: the chart as an OCI artifact at `repository:<version>`; returns the manifest digest."""
    metadata = chart_metadata(archive)
    config = Blob(json.dumps(metadata).encode(), HELM_CONFIG)
    layer = Blob(archive, HELM_CHART_LAYER)
    manifest = Blob(json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config.descriptor(),
                                "layers": [layer.descriptor()]}).encode(), OCI_MANIFEST)
    for blob in (config, layer):
        registry.push_blob(repository, blob)
    registry.put_manifest(repository, str(metadata["version"]).replace("+", "_"), manifest)
    return manifest.digest


@dataclass
class ChartRepository:
    """A directory of archives and its index.yaml, served over HTTP on 127.0.0.1 (as `helm repo index` makes it)."""

    root: Path
    server: Optional[http.server.ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/stable"

    def add(self, archive: bytes, library: bool = False) -> None:
        metadata = chart_metadata(archive)
        name, version = metadata["name"], str(metadata["version"])
        directory = self.root / "stable"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{name}-{version}.tgz").write_bytes(archive)
        index_path = directory / "index.yaml"
        index = yaml.safe_load(index_path.read_text()) if index_path.exists() else {"apiVersion": "v1", "entries": {}}
        entry = {"name": name, "version": version, "urls": [f"{name}-{version}.tgz"],
                 "digest": hashlib.sha256(archive).hexdigest(), **({"type": "library"} if library else {})}
        versions: List[dict] = index["entries"].setdefault(name, [])
        versions.insert(0, entry)
        index_path.write_text(yaml.safe_dump(index))

    def start(self) -> "ChartRepository":
        root = str(self.root)

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, name="chart-repository", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> "ChartRepository":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
