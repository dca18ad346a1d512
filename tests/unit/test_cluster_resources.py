import re
import textwrap

import pytest
import yaml

from skomirror.cluster_resources import (catalog_objects, catalog_source_name, load_template, mirror_pair,
                                         mirror_sets, write_cluster_resources)
from skomirror.collectors.types import ImageKind
from skomirror.imageref import ImageRef
from tests.unit.conftest import planned

DIGEST = "sha256:" + "3a06dc42" * 8


def test_catalog_source_names_follow_oc_mirror():
    assert catalog_source_name(ImageRef.parse("reg.io/ns/redhat/redhat-operator-index:v4.15")) == \
        "cs-redhat-operator-index-v4-15"
    assert catalog_source_name(ImageRef.parse(f"reg.io/ns/redhat/redhat-operator-index:sha256-{'7c4ef7434c97' * 5}ab"
                                              f"cd")) == "cs-redhat-operator-index-7c4ef7434c97"
    assert catalog_source_name(ImageRef.parse("reg.io/cat:Very_Long.Tag.Name")) == "cs-cat-very-long-ta"


DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")


@pytest.mark.parametrize("repository, tag, expected", [
    ("ns/redhat-operator-index", "v4.15", "cs-redhat-operator-index-v4-15"),  # valid: oc-mirror's name, unchanged
    ("ns/my_catalog", "v1", "cs-my-catalog-v1-"),  # oc-mirror fails on these; a hash keeps them apart
    ("ns/my__catalog", "v1", "cs-my--catalog-v1-"),
    ("ns/MyCatalog", "v1", "cs-mycatalog-v1-"),
    ("ns/index", "v1_", "cs-index-v1-"),  # a name cannot end with '-'
    ("ns/" + "long-name" * 9, "v1", "cs-" + ("long-name" * 9)[:47]),
])
def test_catalog_source_names_are_valid_kubernetes_names_for_any_repository(repository, tag, expected):
    name = catalog_source_name(ImageRef("mirror.lab:5000", repository, tag))
    assert DNS_1035_LABEL.match(name) and len(name) <= 63, name
    assert name.startswith(expected), name
    assert name == catalog_source_name(ImageRef("mirror.lab:5000", repository, tag))  # a rerun: the same name
    source, cluster_catalog = catalog_objects(planned(f"registry.io/{repository.lower()}:v1", "mirror.lab:5000",
                                                      ImageKind.OPERATOR_CATALOG), None)
    assert DNS_1035_LABEL.match(cluster_catalog["metadata"]["name"])


def test_a_name_made_valid_does_not_take_the_name_of_another_catalog():
    assert catalog_source_name(ImageRef("m.io", "a/my_cat", "v1")) != catalog_source_name(ImageRef("m.io", "a/my-cat",
                                                                                                   "v1"))


def test_a_template_keeps_only_what_belongs_in_a_manifest_to_apply(tmp_path):
    template = tmp_path / "cs.yaml"  # as `oc get catalogsource -o yaml` prints it
    template.write_text(textwrap.dedent("""\
        apiVersion: operators.coreos.com/v1alpha1
        kind: CatalogSource
        metadata:
          name: redhat-operators
          namespace: openshift-marketplace
          creationTimestamp: "2024-05-01T10:00:00Z"
          generation: 3
          resourceVersion: "123456"
          uid: 0f3b1c2e-1111-2222-3333-444455556666
          managedFields: [{manager: kubectl, operation: Update}]
          labels: {team: platform}
          annotations:
            kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"operators.coreos.com/v1alpha1"}'
            note: kept
        spec:
          sourceType: grpc
          image: registry.redhat.io/redhat/redhat-operator-index:v4.18
          address: catalog.example.com:50051
          displayName: Red Hat Operators
          updateStrategy: {registryPoll: {interval: 30m}}
        status:
          connectionState: {lastObservedState: READY}
          latestImageRegistryPoll: "2024-05-01T10:30:00Z"
        """))
    warnings = []
    loaded = load_template(template, warnings.append)
    assert warnings == [f"targetCatalogSourceTemplate {template}: spec.address is left out: the CatalogSource must "
                        f"serve the mirrored catalog image"]
    image = planned("registry.redhat.io/redhat/redhat-operator-index:v4.18", "mirror.lab:5000/ns",
                    ImageKind.OPERATOR_CATALOG)
    for given in (loaded, yaml.safe_load(template.read_text())):  # catalog_objects cleans a raw template too
        source, _ = catalog_objects(image, given)
        assert set(source) == {"apiVersion", "kind", "metadata", "spec"}
        metadata = source["metadata"]
        assert set(metadata) == {"name", "namespace", "labels", "annotations"}
        assert (metadata["name"], metadata["namespace"]) == ("cs-redhat-operator-index-v4-18", "openshift-marketplace")
        assert metadata["labels"] == {"team": "platform"}
        assert metadata["annotations"]["note"] == "kept" and metadata["annotations"]["createdBy"] == "skomirror"
        assert "kubectl.kubernetes.io/last-applied-configuration" not in metadata["annotations"]
        assert source["spec"] == {"sourceType": "grpc", "image": "mirror.lab:5000/ns/redhat/redhat-operator-index:v4.18",
                                  "displayName": "Red Hat Operators", "updateStrategy": {"registryPoll": {"interval": "30m"}}}


def test_scope_is_the_namespace_when_the_destination_keeps_the_source_path():
    source = ImageRef.parse(f"registry.redhat.io/rhosdt/jaeger-agent@{DIGEST}")
    assert mirror_pair(source, ImageRef.parse("mirror.lab:5000/ns/rhosdt/jaeger-agent:x"), False) == \
        ("registry.redhat.io/rhosdt", "mirror.lab:5000/ns/rhosdt")
    assert mirror_pair(source, ImageRef.parse("mirror.lab:5000/ns/rhosdt/jaeger-agent:x"), True) == \
        ("registry.redhat.io/rhosdt/jaeger-agent", "mirror.lab:5000/ns/rhosdt/jaeger-agent")
    release = ImageRef.parse(f"quay.io/openshift-release-dev/ocp-v4.0-art-dev@{DIGEST}")
    assert mirror_pair(release, ImageRef.parse("mirror.lab:5000/ns/openshift/release:4.18.1-x86_64-cli"), False) == \
        ("quay.io/openshift-release-dev/ocp-v4.0-art-dev", "mirror.lab:5000/ns/openshift/release")
    assert mirror_pair(ImageRef.parse("q.io/xfoo/bar:1"), ImageRef.parse("m.io/ns/foo/bar:1"), False) == \
        ("q.io/xfoo/bar", "m.io/ns/foo/bar")  # a suffix match must be whole path components


def test_digest_images_go_to_idms_tag_images_to_itms_per_family():
    images = [
        planned(f"registry.redhat.io/rhosdt/agent@{DIGEST}", "mirror.lab:5000/ns", ImageKind.OPERATOR_RELATED),
        planned(f"registry.redhat.io/rhosdt/bundle:1.0@{DIGEST}", "mirror.lab:5000/ns", ImageKind.OPERATOR_BUNDLE),
        planned("registry.redhat.io/ubi9/ubi:latest", "mirror.lab:5000/ns", ImageKind.ADDITIONAL),
        planned("registry.redhat.io/redhat/index:v4", "mirror.lab:5000/ns", ImageKind.OPERATOR_CATALOG),
    ]
    idms, itms = mirror_sets(images, repository_scope=False)
    assert [o["metadata"]["name"] for o in idms] == ["idms-operator-0"]
    assert idms[0]["spec"]["imageDigestMirrors"] == [{"source": "registry.redhat.io/rhosdt",
                                                      "mirrors": ["mirror.lab:5000/ns/rhosdt"]}]
    assert [o["metadata"]["name"] for o in itms] == ["itms-generic-0", "itms-operator-0"]  # tag+digest: both sets
    assert itms[0]["spec"]["imageTagMirrors"] == [{"source": "registry.redhat.io/ubi9", "mirrors": ["mirror.lab:5000/ns/ubi9"]}]


def test_files_are_yaml_kubectl_can_read(tmp_path):
    images = [planned(f"registry.redhat.io/rhosdt/agent@{DIGEST}", "mirror.lab:5000/ns", ImageKind.OPERATOR_RELATED),
              planned("registry.redhat.io/redhat/index:v4.18", "mirror.lab:5000/ns", ImageKind.OPERATOR_CATALOG)]
    template = tmp_path / "cs.yaml"
    template.write_text("apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: x\n"
                        "spec:\n  updateStrategy:\n    registryPoll:\n      interval: 30m0s\n")
    templates = {"registry.redhat.io/redhat/index:v4.18": load_template(template, print)}
    written = write_cluster_resources(images, tmp_path / "out", False, templates, {})
    assert sorted(p.name for p in written) == ["cc-index-v4-18.yaml", "cs-index-v4-18.yaml", "idms-oc-mirror.yaml"]
    text = (tmp_path / "out" / "idms-oc-mirror.yaml").read_text()
    assert text.startswith("---\napiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\n")
    catalog_source = yaml.safe_load((tmp_path / "out" / "cs-index-v4-18.yaml").read_text())
    assert catalog_source["metadata"]["name"] == "cs-index-v4-18"
    assert catalog_source["spec"] == {"image": "mirror.lab:5000/ns/redhat/index:v4.18", "sourceType": "grpc",
                                      "updateStrategy": {"registryPoll": {"interval": "30m0s"}}}
    cluster_catalog = yaml.safe_load((tmp_path / "out" / "cc-index-v4-18.yaml").read_text())
    assert cluster_catalog["spec"]["source"] == {"type": "Image", "image": {"ref": "mirror.lab:5000/ns/redhat/index:v4.18"}}


def test_a_bad_template_is_warned_about_and_ignored(tmp_path):
    template = tmp_path / "bad.yaml"
    template.write_text("kind: ConfigMap\n")
    warnings = []
    assert load_template(template, warnings.append) is None
    assert "not an operators.coreos.com/v1alpha1 CatalogSource" in warnings[0]
