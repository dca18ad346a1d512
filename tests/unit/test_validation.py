"""The rules across ISC entries, as oc-mirror's config/validate.go has them, and what oc-mirror reads with a shrug.

One row per rule: a small ISC and the one line it gives (an error, or a warning), or a check of what was read.
"""

import textwrap
from pathlib import Path

import pytest

from skomirror.collectors import collect
from skomirror.config import load_config
from skomirror.errors import ConfigError

V2 = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\n"
V1 = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\n"
INDEX = "registry.redhat.io/redhat/redhat-operator-index:v4.18"
SAME_PLACE = ", and the cluster would see only one of them: merge their packages into one entry, or give one a " \
             "targetCatalog or targetTag"


def error(message):
    return "error", message


def warning(message):
    return "warning", message


def accepted(check=None):
    return "accepted", check


ROWS = [
    pytest.param(V2 + f"""\
        mirror:
          operators:
          - catalog: {INDEX}
            packages:
            - name: foo
          - catalog: {INDEX}
            packages:
            - name: bar
        """, error(f"isc.yaml:8: mirror.operators[1]: catalog '{INDEX}' is already listed on line 5 "
                   f"(<DEST>/redhat/redhat-operator-index:v4.18){SAME_PLACE}"), id="duplicate catalog"),
    pytest.param(V2 + """\
        mirror:
          operators:
          - catalog: quay.io/a/index:v1
            targetCatalog: mirrored/index
          - catalog: quay.io/b/other:v1
            targetCatalog: mirrored/index
        """, error("isc.yaml:7: mirror.operators[1]: catalog 'quay.io/b/other:v1' lands where the catalog on line 5 "
                   f"lands (<DEST>/mirrored/index:v1){SAME_PLACE}"), id="two catalogs with one targetCatalog"),
    pytest.param(V2 + """\
        mirror:
          operators:
          - catalog: oci:///data/a/my-index
          - catalog: oci://./b/my-index
        """, error("isc.yaml:6: mirror.operators[1]: catalog 'oci://./b/my-index' lands where the catalog on line 5 "
                   f"lands (<DEST>/my-index:latest){SAME_PLACE}"), id="two oci catalogs of one directory name"),
    pytest.param(V2 + """\
        mirror:
          operators:
          - catalog: oci:///data/a/my-index
          - catalog: oci:///data/b/my-index
            targetTag: b
        """, accepted(), id="two oci catalogs of one directory name, one with a targetTag"),
    pytest.param(V2 + """\
        mirror:
          operators:
          - catalog: oci:///data/my-index:v1
        """, error("isc.yaml:5: mirror.operators[0].catalog: the OCI layout path '/data/my-index:v1' contains ':'"),
                 id="oci path with a colon"),
    pytest.param(V1 + """\
        mirror:
          operators:
          - catalog: oci:///data/catalogs/my-index
            targetName: renamed-index
        """, accepted(lambda config: config.mirror.operators[0].target_catalog == "renamed-index"),
                 id="targetName of an oci catalog"),
    pytest.param(V2 + f"""\
        mirror:
          operators:
          - catalog: {INDEX}
            targetTag: v4.18-a
          - catalog: {INDEX}
            targetTag: v4.18-b
        """, accepted(), id="one catalog twice under two targetTags"),
    pytest.param(V2 + f"""\
        mirror:
          operators:
          - catalog: {INDEX}
            packages:
            - name: foo
            - name: bar
            - name: foo
              channels:
              - name: stable
        """, error(f"isc.yaml:9: mirror.operators[0].packages[2]: package 'foo' is already listed on line 7 for "
                   f"catalog {INDEX}; list it once, with every channel it needs"), id="duplicate package"),
    pytest.param(V2 + f"""\
        mirror:
          operators:
          - catalog: {INDEX}
            packages:
            - name: foo
              channels:
              - name: stable
                minVersion: 1.0.0
              - name: stable
                maxVersion: 2.0.0
        """, error("isc.yaml:11: mirror.operators[0].packages[0].channels[1]: channel 'stable' of package 'foo' is "
                   "already listed on line 9; list it once, with one version range"), id="duplicate channel"),
    pytest.param(V2 + """\
        mirror:
          platform:
            channels:
            - name: stable-4.18
            - name: fast-4.18
            - name: stable-4.18
              minVersion: 4.18.2
        """, error("isc.yaml:8: mirror.platform.channels[2]: release channel 'stable-4.18' is already listed on "
                   "line 6; list it once, with one version range"), id="duplicate release channel"),
    pytest.param(V2 + """\
        mirror:
          additionalImages:
          - name: quay.io/a/b:1
          - name: quay.io/a/b:1
            targetTag: "2"
          - name: quay.io/a/b:1
        """, warning("isc.yaml:8: mirror.additionalImages[2]: 'quay.io/a/b:1' is already listed on line 5; it is "
                     "mirrored once"), id="duplicate additional image (oc-mirror does not check it)"),
    pytest.param(V2 + f"""\
        mirror:
          operators:
          - catalog: {INDEX}
            packages:
            - name: foo
              minVersion: 1.0.0
              channels:
              - name: stable
                maxVersion: 2.0.0
        """, error("isc.yaml:10: mirror.operators[0].packages[0].channels[0]: channel 'stable' has a "
                   "minVersion/maxVersion and so has its package 'foo' (line 7); oc-mirror refuses the mix: put the "
                   "range on the package or on its channels"), id="package and channel ranges mixed"),
    pytest.param(V2 + f"""\
        mirror:
          operators:
          - catalog: {INDEX}
            packages:
            - name: foo
              maxVersion: latest
        """, error("isc.yaml:8: mirror.operators[0].packages[0].maxVersion: 'latest' is not a semantic version; "
                   "write a version such as 1.2.3"), id="version not semver"),
    pytest.param(V2 + """\
        mirror:
          additionalImages:
          - Name: quay.io/a/b:1
            targetTag: "2"
        """, warning("isc.yaml:5: mirror.additionalImages[0].Name: read as 'name', as oc-mirror reads keys in any "
                     "letter case; write 'name'"), id="key in another letter case"),
    pytest.param("Kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror: {}\n",
                 warning("isc.yaml:1: Kind: read as 'kind', as oc-mirror reads keys in any letter case; write 'kind'"),
                 id="header key in another letter case"),
    pytest.param(V2 + """\
        mirror:
          additionalImages:
          - name: quay.io/a/b:1
            NAME: quay.io/a/c:1
        """, error("isc.yaml:6: mirror.additionalImages[0].NAME: duplicate key (first set on line 5 as 'name'; "
                   "oc-mirror ignores the letter case)"), id="one key twice in two letter cases"),
    pytest.param(V1 + """\
        storageConfig:
          local:
            path: null
        mirror: {}
        """, warning("isc.yaml:3: storageConfig: not used: skomirror keeps what it mirrored in its workspace "
                     "(--workspace), not in oc-mirror v1's metadata store"), id="null local path"),
    pytest.param(V2 + "mirror:\n  helm: {}\n  additionalImages:\n  - name: quay.io/a/b:1\n",
                 accepted(lambda config: not config.mirror.helm and len(collect(config).images) == 1),
                 id="helm: {}"),
    pytest.param(V2 + "mirror:\n  additionalImages:\n  - name: quay.io/a/b:1\n---\n" + V2 + "mirror: {}\n",
                 error("isc.yaml:7: a second YAML document starts here; oc-mirror would read only the first and "
                       "ignore this one: keep one ImageSetConfiguration per file"), id="two YAML documents"),
    pytest.param("---\n" + V2 + "mirror: {}\n---\n", accepted(), id="one YAML document between separators"),
    pytest.param(V1 + """\
        mirror:
          operators:
          - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.12
            targetName: my-index
            targetTag: v1
        """, accepted(lambda config: (config.mirror.operators[0].target_catalog,
                                      config.mirror.operators[0].target_tag) == ("redhat/my-index", "v1")),
                 id="targetName honoured"),
    pytest.param(V1 + """\
        mirror:
          operators:
          - catalog: quay.io/a/index:v1
            targetName: my-index
            targetCatalog: b/index
        """, warning("isc.yaml:6: mirror.operators[0].targetName: ignored: targetCatalog is set and wins, as in "
                     "oc-mirror"), id="targetName with targetCatalog"),
    pytest.param(V1 + """\
        mirror:
          operators:
          - catalog: quay.io/a/index:v1
            targetName: My_Index
        """, error("isc.yaml:6: mirror.operators[0].targetName: invalid repository path component 'My_Index'"),
                 id="targetName not a repository name"),
    pytest.param(V1 + """\
        mirror:
          operators:
          - catalog: quay.io/a/index:v1
            packages:
            - name: foo
              minBundle: foo.v1.0.0
        """, error("isc.yaml:8: mirror.operators[0].packages[0].minBundle: not supported by skomirror (oc-mirror "
                   "v2 dropped it too); write the bundle's version as minVersion"), id="minBundle"),
    pytest.param(V1 + """\
        mirror:
          operators:
          - catalog: quay.io/a/index:v1
            originalRef: quay.io/a/index:v0
        """, warning("isc.yaml:6: mirror.operators[0].originalRef: ignored, as oc-mirror has ignored it since 4.13"),
                 id="originalRef"),
    pytest.param(V2 + """\
        mirror:
          additionalImages:
          - name: quay.io/a/b:1
            platforms:
            - os: linux
              architecture: arm64
            - os: linux
        """, error("isc.yaml:9: mirror.additionalImages[0].platforms[1].architecture: required key is missing"),
                 id="platform without architecture"),
]


@pytest.mark.parametrize("text, outcome", ROWS)
def test_each_rule_is_one_line_with_file_key_path_and_line(tmp_path, text, outcome):
    path = tmp_path / "isc.yaml"
    kind_line, version_line, body = text.split("\n", 2)  # the header is not indented, the body may be
    path.write_text(f"{kind_line}\n{version_line}\n{textwrap.dedent(body)}")
    kind, expected = outcome
    if kind == "error":
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        message = str(caught.value).replace(str(tmp_path) + "/", "")
        assert "\n" not in message
        assert message.startswith(expected), message
        return
    printed = []
    config = load_config(path, printed.append)
    warnings = [message.replace(str(tmp_path) + "/", "") for message in config.warnings]
    assert printed == list(config.warnings)
    if kind == "warning":
        assert warnings == [expected]
    else:
        assert warnings == []
        assert expected is None or expected(config)


def test_a_template_that_is_there_must_be_a_usable_catalog_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    isc = tmp_path / "isc.yaml"
    isc.write_text(V2 + f"mirror:\n  operators:\n  - catalog: {INDEX}\n    targetCatalogSourceTemplate: cs.yaml\n")
    load_config(isc)  # missing here: needed only where cluster resources are written, and warned about there
    Path("cs.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    with pytest.raises(ConfigError, match=r"^.*isc.yaml:6: mirror.operators\[0\].targetCatalogSourceTemplate: "
                                          r"cs.yaml: not an operators.coreos.com/v1alpha1 CatalogSource$"):
        load_config(isc)
    Path("cs.yaml").write_text("apiVersion: [\n")
    with pytest.raises(ConfigError, match=r"targetCatalogSourceTemplate: cs.yaml: 2:1: malformed YAML: "):
        load_config(isc)
    Path("cs.yaml").write_text("apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\n")
    assert load_config(isc).mirror.operators[0].target_catalog_source_template == "cs.yaml"
