"""The operator collector's cache keys, its extraction cache and its error wording."""

import pytest

from skomirror.catalog.fbc import Bundle, Catalog
from skomirror.collectors import operators
from skomirror.collectors.operators import OperatorCollectionError, OperatorContext, catalog_filter, \
    extracted_configs
from skomirror.config.model import IncludeChannel, IncludePackage, Operator, Where
from skomirror.naming import MirrorName
from skomirror.store import Store
from testkit.catalogs import catalog_image, fbc_documents
from testkit.images import make_image, make_layer, put_in_store

SPEC = {"foo": {"default": "stable", "channels": {"stable": [("foo.v1.0.0", None, []),
                                                            ("foo.v1.1.0", "foo.v1.0.0", [])]}}}
CATALOG = "registry.example/redhat/index:v4"
DIGEST = "sha256:" + "a" * 64


def operator(line: int, max_version: str = "1.1.0") -> Operator:
    """One ISC entry written at `line`: where it sits must not matter to what it selects."""
    channel = IncludeChannel(name="stable", max_version=max_version, where=Where("isc.yaml", line + 2, "c"))
    package = IncludePackage(name="foo", channels=[channel], where=Where("isc.yaml", line + 1, "p"))
    return Operator(catalog=CATALOG, packages=[package], where=Where("isc.yaml", line, "o"))


def key(entry: Operator, digest: str = DIGEST) -> str:
    return operators._filter_key(catalog_filter(entry, entry.catalog), digest)


def test_filter_key_ignores_where_the_entry_was_written_but_not_what_it_selects():
    assert key(operator(10)) == key(operator(11))
    assert key(operator(10)) != key(operator(10, max_version="1.0.0"))
    assert key(operator(10)) != key(operator(10), "sha256:" + "b" * 64)


@pytest.mark.parametrize("bundle_image, related, role", [
    ("oci:///tmp/bundle", "quay.io/ok/related:1", "bundle image 'oci:///tmp/bundle'"),
    ("quay.io/ok/bundle:1", "oci:///tmp/related", "related image 'oci:///tmp/related'"),
])
def test_an_unusable_reference_is_named_as_bundle_or_related_image(bundle_image, related, role):
    catalog = Catalog()
    catalog.bundles["foo"] = {"foo.v1": Bundle("foo", "foo.v1", bundle_image, None, [related], {})}
    with pytest.raises(OperatorCollectionError) as raised:
        operators._images_of(catalog, operator(10))
    message = str(raised.value)
    assert f"bundle foo.v1: {role}: unsupported transport oci://" in message


def test_extraction_stopped_half_way_is_not_trusted_and_its_leftover_is_removed(tmp_path, monkeypatch):
    store = Store(tmp_path / "store").prepare()
    digest = put_in_store(store, MirrorName("redhat/index", "v4"), catalog_image(fbc_documents(SPEC)))
    configs = tmp_path / "work" / "configs"

    def interrupted(store_, digest_, target):
        target.mkdir(parents=True)
        (target / "half.json").write_text("{")
        raise KeyboardInterrupt

    monkeypatch.setattr(operators, "extract_configs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extracted_configs(store, digest, configs)
    assert not configs.exists()
    monkeypatch.undo()

    assert extracted_configs(store, digest, configs) == configs
    assert sorted(p.relative_to(configs).as_posix() for p in configs.rglob("*") if p.is_file()) == \
        ["foo/catalog.json"]
    assert not (tmp_path / "work" / "configs.partial").exists()
    monkeypatch.setattr(operators, "extract_configs", lambda *args: pytest.fail("extracted twice"))
    assert extracted_configs(store, digest, configs) == configs  # a complete extraction is reused


def _context(tmp_path) -> OperatorContext:
    return OperatorContext(Store(tmp_path / "catalogs").prepare(), Store(tmp_path / "rebuilt").prepare(),
                           tmp_path / "work", lambda images: {})


def test_a_filter_error_names_the_catalog_once(tmp_path):
    context = _context(tmp_path)
    digest = put_in_store(context.catalogs, MirrorName("redhat/index", "v4"), catalog_image(fbc_documents(SPEC)))
    entry = Operator(catalog=CATALOG, packages=[IncludePackage(name="nosuch")], where=Where("isc.yaml", 7, "o"))
    with pytest.raises(OperatorCollectionError) as raised:
        operators._one_catalog(entry, operators.catalog_source(entry), digest, context)
    assert str(raised.value) == f"isc.yaml:7: o: catalog {CATALOG}: package 'nosuch': no such package in the catalog"


def test_an_unreadable_catalog_is_prefixed_with_the_catalog(tmp_path):
    context = _context(tmp_path)
    digest = put_in_store(context.catalogs, MirrorName("redhat/index", "v4"), make_image([make_layer("db", 100)]))
    with pytest.raises(OperatorCollectionError) as raised:
        operators._one_catalog(operator(7), operators.catalog_source(operator(7)), digest, context)
    assert str(raised.value).startswith(f"isc.yaml:7: o: catalog {CATALOG}: no file-based catalog under /configs")
