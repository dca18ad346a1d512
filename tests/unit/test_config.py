import textwrap
from pathlib import Path

import pytest

from skomirror.collectors import collect
from skomirror.config import load_config
from skomirror.config.model import V1ALPHA2, V2ALPHA1
from skomirror.errors import ConfigError

HEAD = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\n"


def write(tmp_path: Path, text: str, name="isc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(tmp_path) + "/", "")


FULL_V2 = HEAD + """\
archiveSize: 4
mirror:
  platform:
    architectures: [amd64, arm64]
    channels:
    - name: stable-4.18
      minVersion: 4.18.1
      maxVersion: 4.18.3
      shortestPath: true
      type: ocp
    graph: true
    release: quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64
    kubeVirtContainer: true
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.18
    targetCatalog: my/catalog
    targetTag: v4
    full: false
    packages:
    - name: aws-load-balancer-operator
      defaultChannel: stable-v1
      channels:
      - name: stable-v1
        minVersion: 1.0.0
  - catalog: oci:///tmp/catalog
  additionalImages:
  - name: registry.redhat.io/ubi9/ubi:latest
    targetRepo: base/ubi
    targetTag: "9"
  blockedImages:
  - name: ^registry.redhat.io/ubi8/
  helm:
    repositories:
    - name: sigstore
      url: https://sigstore.github.io/helm-charts
      charts:
      - name: cosigned
        version: 0.1.23
    local:
    - name: local-chart
      path: /charts/local
"""


def test_loads_the_whole_v2_schema(tmp_path):
    config = load_config(write(tmp_path, FULL_V2))
    assert config.api_version == V2ALPHA1 and config.archive_size == 4
    platform = config.mirror.platform
    assert platform.architectures == ["amd64", "arm64"] and platform.graph and platform.kube_virt_container
    assert platform.channels[0].shortest_path and platform.channels[0].max_version == "4.18.3"
    operator = config.mirror.operators[0]
    assert (operator.target_catalog, operator.target_tag) == ("my/catalog", "v4")
    assert operator.packages[0].channels[0].min_version == "1.0.0"
    assert config.mirror.operators[1].catalog == "oci:///tmp/catalog"
    image = config.mirror.additional_images[0]
    assert (image.name, image.target_repo, image.target_tag) == ("registry.redhat.io/ubi9/ubi:latest", "base/ubi", "9")
    assert image.where.line == 29 and image.where.path == "mirror.additionalImages[0]"
    assert config.mirror.blocked_images[0].name == "^registry.redhat.io/ubi8/"
    assert config.mirror.helm.repositories[0].charts[0].version == "0.1.23"
    assert config.mirror.helm.local[0].path == "/charts/local"


def test_loads_v1alpha2_with_its_own_keys(tmp_path):
    config = load_config(write(tmp_path, """\
        kind: ImageSetConfiguration
        apiVersion: mirror.openshift.io/v1alpha2
        storageConfig:
          local:
            path: /tmp/metadata
        mirror:
          operators:
          - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.12
            targetName: my-index
            packages:
            - name: foo
          additionalImages:
          - name: registry.redhat.io/ubi8/ubi:latest
        """))
    assert config.api_version == V1ALPHA2
    assert config.storage_config.local.path == "/tmp/metadata"
    assert config.mirror.operators[0].target_catalog == "redhat/my-index"  # targetName renames the last component
    assert [w.split(": ", 2)[1:] for w in config.warnings] == [["storageConfig", "not used: skomirror keeps what it "
                                                                "mirrored in its workspace (--workspace), not in "
                                                                "oc-mirror v1's metadata store"]]


@pytest.mark.parametrize("body, expected", [
    # an unknown key, with the nearest known key suggested
    ("mirror:\n  additionalImage:\n  - name: quay.io/a/b:1\n",
     "isc.yaml:4: mirror.additionalImage: unknown key 'additionalImage'; did you mean 'additionalImages'?"),
    # a wrong type
    ("mirror:\n  platform:\n    graph: maybe\n",
     "isc.yaml:5: mirror.platform.graph: expected true or false, got 'maybe'"),
    ("mirror:\n  additionalImages:\n    name: quay.io/a/b:1\n",
     "isc.yaml:5: mirror.additionalImages: expected a list, got a mapping"),
    ("archiveSize: big\nmirror: {}\n", "isc.yaml:3: archiveSize: expected an integer, got 'big'"),
    # an unquoted version number where a string is expected
    ("mirror:\n  additionalImages:\n  - name: quay.io/a/b:1\n    targetTag: 4.10\n",
     "isc.yaml:6: mirror.additionalImages[0].targetTag: expected a string, got the number 4.10; quote it: '4.10'"),
    # an image reference without tag or digest, at its exact index
    ("mirror:\n  additionalImages:\n  - name: quay.io/a/b:1\n  - name: quay.io/a/c:1\n  - name: quay.io/a/d\n",
     "isc.yaml:7: mirror.additionalImages[2].name: 'quay.io/a/d' has no tag or digest; add :tag or @sha256:<digest>"),
    ("mirror:\n  additionalImages:\n  - name: UBI9/ubi:latest\n",
     "isc.yaml:5: mirror.additionalImages[0].name: invalid repository path component 'UBI9' (lowercase letters"),
    ("mirror:\n  additionalImages:\n  - targetTag: x\n",
     "isc.yaml:5: mirror.additionalImages[0].name: required key is missing"),
    ("mirror:\n  blockedImages:\n  - name: '(unclosed'\n",
     "isc.yaml:5: mirror.blockedImages[0].name: invalid regular expression '(unclosed'"),
    ("mirror:\n  platform:\n    architectures: [amd64, x86]\n",
     "isc.yaml:5: mirror.platform.architectures[1]: 'x86' is not one of: amd64, arm64, ppc64le, s390x, multi"),
    ("mirror: {}\nmirror: {}\n", "isc.yaml:4: mirror: duplicate key (first set on line 3)"),
    ("archiveSize: 1\n", "isc.yaml:1: mirror: required key is missing"),
    ("storageConfig:\n  local:\n    path: /x\nmirror: {}\n",
     "isc.yaml:3: storageConfig: not part of mirror.openshift.io/v2alpha1; it needs apiVersion: "
     "mirror.openshift.io/v1alpha2"),
])
def test_each_problem_is_one_line_with_file_key_path_and_line(tmp_path, body, expected):
    message = error_of(tmp_path, HEAD + body)
    assert message.startswith(expected), message


@pytest.mark.parametrize("text, expected", [
    ("apiVersion: mirror.openshift.io/v2alpha1\nmirror: {}\n", "isc.yaml:1: kind: missing; expected kind: "
                                                               "ImageSetConfiguration"),
    ("kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v3\nmirror: {}\n",
     "isc.yaml:2: apiVersion: unsupported apiVersion 'mirror.openshift.io/v3'; expected one of "
     "mirror.openshift.io/v2alpha1, mirror.openshift.io/v1alpha2"),
    ("kind: ImageSetConfiguration\nmirror: {}\n", "isc.yaml:1: apiVersion: missing"),
    ("kind: DeleteImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\ndelete: {}\n",
     "isc.yaml:1: kind: unsupported kind 'DeleteImageSetConfiguration' (it is read by skomirror delete --generate)"),
    ("kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n  additionalImages: [\n",
     "isc.yaml:5:1: malformed YAML: "),  # the wording is the YAML library's (libyaml or PyYAML's own)
    ("", "isc.yaml: the file is empty"),
    ("- a\n- b\n", "isc.yaml:1: expected a mapping with kind, apiVersion and mirror"),
    ("kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  additionalImages:\n"
     "  - name: quay.io/a/b:1\n    targetRepo: x\n",
     "isc.yaml:6: mirror.additionalImages[0].targetRepo: not part of mirror.openshift.io/v1alpha2"),
])
def test_header_and_yaml_problems(tmp_path, text, expected):
    assert error_of(tmp_path, text).startswith(expected)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: cannot read the ImageSetConfiguration: No such file"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("section, line", [
    ("samples:\n  - name: x\n", 5),
])
def test_sections_not_mirrored_yet_are_refused_with_their_location(tmp_path, section, line):
    config = load_config(write(tmp_path, HEAD + "mirror:\n  " + section))
    key = section.split(":")[0]
    with pytest.raises(ConfigError, match=rf"isc.yaml:{line}: mirror.{key}: .*cannot mirror this section yet"):
        collect(config)


def test_additional_images_are_collected_with_their_targets(tmp_path):
    config = load_config(write(tmp_path, HEAD + "mirror:\n  additionalImages:\n  - name: quay.io/a/b:1\n"
                                                "    targetRepo: c/d\n    targetTag: e\n"))
    collected = collect(config)
    (image,) = collected.images
    assert collected.catalogs == [] and collected.releases == []
    assert (str(image.source), image.target_repo, image.target_tag) == ("quay.io/a/b:1", "c/d", "e")


def test_short_names_are_accepted_and_keep_the_text_written_as_their_origin(tmp_path):
    catalog = load_config(write(tmp_path, HEAD + "mirror:\n  operators:\n  - catalog: test-catalog1:latest\n"))
    assert catalog.mirror.operators[0].catalog == "test-catalog1:latest"
    config = load_config(write(tmp_path, HEAD + "mirror:\n  additionalImages:\n  - name: hello-world:latest\n"
                                                "  - name: ubi8/ubi:latest\n"))
    hello, ubi = collect(config).images
    assert (hello.origin, hello.source.pull_spec) == ("hello-world:latest", "docker.io/library/hello-world:latest")
    assert (ubi.origin, ubi.source.pull_spec) == ("ubi8/ubi:latest", "docker.io/ubi8/ubi:latest")
