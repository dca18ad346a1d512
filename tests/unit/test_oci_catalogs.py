"""`catalog: oci://PATH`: how the path is read, the name the catalog lands under, and what is refused.

oc-mirror v2 (internal/pkg/image/image.go ParseRef, operator/filtered_collector.go, operator/common.go): all
after `oci://` is the path, made absolute from the working directory; the catalog lands at
`<targetCatalog or the path's last component>:<targetTag or latest>`.
"""

import json
import os

import pytest

from skomirror.catalog.layout import OciLayout
from skomirror.collectors import operators
from skomirror.collectors.operators import OperatorCollectionError
from skomirror.config.model import Operator, Where
from skomirror.errors import InvalidReference
from skomirror.imageref import ImageRef, OciLayoutRef
from skomirror.naming import MirrorName, oci_catalog_name
from skomirror.store import REF_NAME, Store
from testkit.catalogs import catalog_image, fbc_documents
from testkit.images import put_in_store
from tests.unit.test_operator_collector import SPEC


@pytest.mark.parametrize("text, path, name", [
    ("oci:///data/catalogs/my-index", "/data/catalogs/my-index", "my-index"),
    ("oci:///data/catalogs/my-index/", "/data/catalogs/my-index", "my-index"),
    ("oci://./catalogs/my-index", "{cwd}/catalogs/my-index", "my-index"),
    ("oci://my-index", "{cwd}/my-index", "my-index"),
    ("oci://../elsewhere/index", "{parent}/elsewhere/index", "index"),
])
def test_the_path_is_all_after_oci_and_relative_to_the_working_directory(text, path, name):
    cwd = os.getcwd()
    reference = OciLayoutRef.parse(text)
    assert str(reference.path) == path.format(cwd=cwd, parent=os.path.dirname(cwd))
    assert reference.name == name


@pytest.mark.parametrize("text, reason", [
    ("oci://", "oci:// needs the path of an OCI layout"),
    ("oci://  ", "oci:// needs the path of an OCI layout"),
    ("oci:///data/my-index:v1", "contains ':', which skopeo cannot address"),
    ("docker://quay.io/a/b:1", "is not an oci:// catalog"),
])
def test_unusable_paths_are_refused(text, reason):
    with pytest.raises(InvalidReference, match=reason):
        OciLayoutRef.parse(text)


@pytest.mark.parametrize("target_catalog, target_tag, expected", [
    (None, None, "my-index:latest"),  # whatever the layout's own tag
    ("ops/index", None, "ops/index:latest"),
    (None, "v4.18", "my-index:v4.18"),
    ("ops/index", "v4.18", "ops/index:v4.18"),
])
def test_the_catalog_lands_under_target_catalog_or_the_directory_name(target_catalog, target_tag, expected):
    layout = OciLayoutRef.parse("oci:///data/my-index")
    assert str(oci_catalog_name(layout, target_catalog, target_tag)) == expected


def test_a_directory_name_that_is_no_repository_name_needs_a_target_catalog():
    layout = OciLayoutRef.parse("oci:///data/My_Index")
    with pytest.raises(InvalidReference, match="directory name 'My_Index' cannot name the mirrored catalog .*"
                                               "give the entry a targetCatalog"):
        oci_catalog_name(layout)
    assert oci_catalog_name(layout, "my-index") == MirrorName("my-index", "latest")


def entry(catalog: str, **fields) -> Operator:
    return Operator(catalog=catalog, where=Where("isc.yaml", 7, "mirror.operators[0]"), **fields)


def layout_with(tmp_path, manifests=1, name="my-index"):
    """A real layout of `manifests` catalog images (tags v1, v2, ...)."""
    store = Store(tmp_path / "store").prepare()
    descriptors = []
    for number in range(1, manifests + 1):
        image = catalog_image(fbc_documents(SPEC), name=f"catalog-{number}")
        digest = put_in_store(store, MirrorName("x", f"v{number}"), image)
        descriptors.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                            "size": store.blob_path(digest).stat().st_size, "annotations": {REF_NAME: f"v{number}"}})
    root = tmp_path / name
    root.mkdir()
    (root / "blobs").symlink_to(store.blobs)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": descriptors}))
    return root, [d["digest"] for d in descriptors]


def test_a_layout_is_read_as_its_one_image_named_where_it_lands(tmp_path):
    root, (digest,) = layout_with(tmp_path)
    source = operators.catalog_source(entry(f"oci://{root}"))
    assert source.source == ImageRef("localhost", "my-index", "latest", digest)
    assert source.layout.spec(MirrorName("anything", "at-all")) == f"oci:{root}"
    assert source.layout.tagged_digest(MirrorName("anything", "at-all")) == digest
    pull = source.pull(entry(f"oci://{root}"))
    assert (pull.source.tag, pull.source.digest, pull.source_store) == (None, digest, source.layout)
    assert pull.origin == f"oci://{root}"
    named = operators.catalog_source(entry(f"oci://{root}", target_catalog="ops/index"))
    assert named.source.path == "ops/index"


def test_a_registry_catalog_has_no_layout():
    source = operators.catalog_source(entry("quay.io/a/index:v1"))
    assert source.layout is None and source.pull(entry("quay.io/a/index:v1")).source_store is None


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize("make, reason", [
    (lambda root: None, "{root} does not exist"),
    (lambda root: _write(root, "not a directory"), "{root} is not a directory"),
    (lambda root: root.mkdir(parents=True),
     "{root} is not an OCI layout (no oci-layout or index.json); make one with skopeo copy docker://CATALOG "
     "oci:{root}:TAG"),
    (lambda root: (_write(root / "oci-layout", "{}"), _write(root / "index.json", "{")),
     "{root}/index.json cannot be read"),
    (lambda root: (_write(root / "oci-layout", "{}"), _write(root / "index.json", '{"manifests": []}')),
     "{root} holds no image (index.json lists no manifest)"),
    (lambda root: (_write(root / "oci-layout", "{}"),
                   _write(root / "index.json", '{"manifests": [{"digest": "sha256:12"}]}')),
     "{root}/index.json: invalid digest 'sha256:12'"),
    (lambda root: (_write(root / "oci-layout", "{}"),
                   _write(root / "index.json", json.dumps({"manifests": [{"digest": "sha256:" + "a" * 64}]}))),
     "{root}/index.json names sha256:" + "a" * 64 + ", which is not in {root}/blobs"),
])
def test_what_is_not_a_layout_of_one_image_is_one_line_with_file_and_line(tmp_path, make, reason):
    root = tmp_path / "catalogs" / "my-index"
    make(root)
    with pytest.raises(OperatorCollectionError) as raised:
        operators.catalog_source(entry(f"oci://{root}"))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"isc.yaml:7: mirror.operators[0]: catalog oci://{root}: " +
                              reason.format(root=root)), message


def test_a_layout_of_several_images_names_them_and_says_how_to_keep_one(tmp_path):
    root, _ = layout_with(tmp_path, manifests=2)
    with pytest.raises(OperatorCollectionError) as raised:
        operators.catalog_source(entry(f"oci://{root}"))
    assert str(raised.value) == (
        f"isc.yaml:7: mirror.operators[0]: catalog oci://{root}: {root} holds 2 images (v1, v2); skomirror reads "
        f"a layout holding one catalog image: copy the one to mirror into a layout of its own, e.g. skopeo copy "
        f"--all oci:{root}:TAG oci:NEW-DIR:TAG")


def test_a_directory_name_that_cannot_be_a_repository_is_refused_with_the_entry(tmp_path):
    root, _ = layout_with(tmp_path, name="My_Index")
    with pytest.raises(OperatorCollectionError, match=r"^isc.yaml:7: mirror.operators\[0\]: catalog .*"
                                                      "give the entry a targetCatalog"):
        operators.catalog_source(entry(f"oci://{root}"))
    assert operators.catalog_source(entry(f"oci://{root}", target_catalog="my-index")).source.path == "my-index"


def test_a_layout_is_checked_once(tmp_path):
    root, (digest,) = layout_with(tmp_path)
    layout = OciLayout(root)
    assert layout.image_digest() == digest
    (root / "index.json").unlink()
    assert layout.image_digest() == digest
