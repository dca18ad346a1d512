import json

import pytest

from skomirror.catalog.fbc import CatalogError, load_catalog, write_catalog
from skomirror.catalog.filter import CatalogFilter, PackageFilter, filter_catalog
from skomirror.catalog.image import CONFIGS_LABEL, extract_configs, rebuild_catalog
from skomirror.manifests import parse_manifest
from skomirror.naming import MirrorName
from skomirror.store import Store
from testkit.catalogs import catalog_image, fbc_documents, fbc_files, multi_arch_catalog
from testkit.images import make_image, make_layer, put_in_store

SPEC = {
    "foo": {"default": "stable", "channels": {"stable": [("foo.v1.0.0", None, []), ("foo.v1.1.0", "foo.v1.0.0", [])]}},
    "bar": {"default": "alpha", "channels": {"alpha": [("bar.v0.1.0", None, [])]}},
    "old": {"default": "x", "channels": {"x": [("old.v0.0.1", None, [])]}},
}


def test_extracts_the_configs_directory_applying_layers_and_whiteouts_in_order(tmp_path):
    store = Store(tmp_path / "store").prepare()
    first = fbc_files(fbc_documents(SPEC))
    second = {
        "configs/.wh.old": b"",  # drops the package directory "old" of the layer below
        "configs/bar/.wh..wh..opq": b"",  # an opaque directory: nothing of bar below survives...
        "configs/bar/new.json": json.dumps({"schema": "olm.package", "name": "bar", "defaultChannel": "beta"}).encode(),
        "etc/unrelated": b"outside the configs directory",
    }
    image = make_image([make_layer("base", 100), make_layer("l1", 0, first), make_layer("l2", 0, second)],
                       labels={CONFIGS_LABEL: "/configs"})
    digest = put_in_store(store, MirrorName("catalog", "v1"), image)
    configs = extract_configs(store, digest, tmp_path / "configs")
    files = sorted(p.relative_to(configs).as_posix() for p in configs.rglob("*") if p.is_file())
    assert files == ["bar/new.json", "foo/catalog.json"]
    catalog = load_catalog(configs)
    assert sorted(catalog.packages) == ["bar", "foo"] and catalog.default_channel("bar") == "beta"


def test_an_image_without_fbc_is_a_clear_error(tmp_path):
    store = Store(tmp_path / "store").prepare()
    digest = put_in_store(store, MirrorName("sqlite", "v1"), make_image([make_layer("db", 100)]))
    with pytest.raises(CatalogError, match="no file-based catalog under /configs"):
        extract_configs(store, digest, tmp_path / "configs")


@pytest.mark.parametrize("multi_arch", [False, True])
def test_rebuilt_catalog_serves_only_the_filtered_fbc(tmp_path, multi_arch):
    store, rebuilt = Store(tmp_path / "catalogs").prepare(), Store(tmp_path / "rebuilt").prepare()
    documents = fbc_documents(SPEC)
    image = multi_arch_catalog(documents) if multi_arch else catalog_image(documents)
    original = put_in_store(store, MirrorName("redhat/index", "v4"), image)
    catalog = load_catalog(extract_configs(store, original, tmp_path / "configs"))
    filtered = filter_catalog(catalog, CatalogFilter("index", [PackageFilter("foo")]))
    write_catalog(filtered, tmp_path / "filtered")

    name = MirrorName("mirror/index", "v4")
    digest = rebuild_catalog(store, original, tmp_path / "filtered", rebuilt, name)
    assert rebuilt.tagged_digest(name) == digest
    top = parse_manifest(rebuilt.read_blob(digest))
    children = [parse_manifest(rebuilt.read_blob(c.digest)) for c in top.children] if multi_arch else [top]
    assert len(children) == (2 if multi_arch else 1)
    for child in children:
        config = json.loads(rebuilt.read_blob(child.blobs[0].digest))
        assert config["config"]["Cmd"] == ["serve", "/configs"]
        assert config["config"]["Labels"][CONFIGS_LABEL] == "/configs"
        assert len(config["rootfs"]["diff_ids"]) == len(child.blobs) - 1 == 4  # base, configs, whiteout, new FBC
    again = load_catalog(extract_configs(rebuilt, digest, tmp_path / "again"))
    assert sorted(again.packages) == ["foo"]
    assert [b.name for b in again.all_bundles()] == ["foo.v1.1.0"]
    # rebuilding is reproducible: the same input gives the same digest
    assert rebuild_catalog(store, original, tmp_path / "filtered", Store(tmp_path / "other").prepare(), name) == digest
