"""mirror.helm as the loader reads it: oc-mirror's keys, values/valuesFiles, and what is refused at its line."""

import pytest

from skomirror.config import load_config
from tests.unit.test_config import HEAD, error_of, write

V1 = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\n"


def test_values_and_values_files_are_read_as_written(tmp_path):
    config = load_config(write(tmp_path, HEAD + """\
mirror:
  helm:
    repositories:
    - name: stable
      url: https://charts.example.com/stable
      charts:
      - name: web
        version: 1.2.3
        imagePaths: ["{.spec.template.spec.containers[*].env[?(@.name == 'RELATED_IMAGE')].value}"]
        values:
          image: {repository: shop/web, tag: "2.0"}
          Replicas: 3
        valuesFiles: [values/web.yaml]
    local:
    - name: local
      path: charts/local
      version: 0.1.0
      platforms:
      - architecture: arm64
"""))
    chart = config.mirror.helm.repositories[0].charts[0]
    assert chart.values == {"image": {"repository": "shop/web", "tag": "2.0"}, "Replicas": 3}  # case kept: Helm's
    assert chart.values_files == ["values/web.yaml"] and chart.where.line == 9
    local = config.mirror.helm.local[0]
    assert (local.path, local.version, local.values, local.platforms[0].architecture) == (
        "charts/local", "0.1.0", {}, "arm64")
    assert config.warnings == ()


@pytest.mark.parametrize("helm, expected", [
    ("repositories:\n    - name: s\n      url: https://x.example.com\n      charts:\n      - name: web\n"
     "        path: /charts/web.tgz\n",
     "isc.yaml:10: mirror.helm.repositories[0].charts[0].path: a chart of a repository is downloaded from it"),
    ("repositories:\n    - name: r\n      url: oci://quay.io/charts\n      charts:\n      - name: web\n",
     "isc.yaml:9: mirror.helm.repositories[0].charts[0]: chart 'web' of an oci:// repository needs its version"),
    ("repositories:\n    - name: r\n      url: oci://quay.io/charts\n",
     "isc.yaml:7: mirror.helm.repositories[0].url: an oci:// chart repository cannot be listed: name its charts"),
    ("repositories:\n    - name: r\n      url: ftp://x.example.com\n",
     "isc.yaml:7: mirror.helm.repositories[0].url: 'ftp://x.example.com' is not a chart repository URL"),
    ("repositories:\n    - name: s\n      url: https://x.example.com\n      charts:\n      - name: web\n"
     "        version: ^1.2\n",
     "isc.yaml:10: mirror.helm.repositories[0].charts[0].version: '^1.2' is not a chart version; write one exact"),
    ("local:\n    - name: web\n      path: web.tgz\n      imagePaths: ['.spec.containers[*].image']\n",
     "isc.yaml:8: mirror.helm.local[0].imagePaths[0]: '.spec.containers[*].image' is not a JSONPath template"),
    ("local:\n    - name: web\n      path: web.tgz\n      values: [a, b]\n",
     "isc.yaml:8: mirror.helm.local[0].values: expected a mapping, got a list"),
    ("local:\n    - name: web\n      path: web.tgz\n      valuesFiles: ''\n",
     "isc.yaml:8: mirror.helm.local[0].valuesFiles: expected a list"),
])
def test_what_cannot_be_honoured_is_refused_at_its_line(tmp_path, helm, expected):
    assert error_of(tmp_path, HEAD + "mirror:\n  helm:\n    " + helm).startswith(expected)


def test_values_are_v2alpha1_keys(tmp_path):
    assert error_of(tmp_path, V1 + "mirror:\n  helm:\n    local:\n    - name: web\n      path: web.tgz\n"
                                   "      valuesFiles: [v.yaml]\n").startswith(
        "isc.yaml:8: mirror.helm.local[0].valuesFiles: not part of mirror.openshift.io/v1alpha2")
