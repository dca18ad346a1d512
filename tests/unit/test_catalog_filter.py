"""The catalog filter on a catalog written here, expected bundles worked out by hand from the rules.

foo (default channel stable)
  stable: 1.0.0 <- 1.1.0 <- 1.2.0 <- 2.0.0 (skips 1.3.0) <- 2.1.0      head 2.1.0
  beta:   2.0.0 <- 2.1.0 <- 3.0.0-rc1                                   head 3.0.0-rc1
  legacy: 0.9.0 <- 1.0.0                                                 head 1.0.0
bar (default channel alpha)
  alpha:  0.1.0 <- 0.2.0 <- 0.3.0 (skips 0.2.5)                          head 0.3.0
  stable: 0.3.0                                                          head 0.3.0
baz (default channel main)
  main:   1.0.0 <- 1.1.0                                                 head 1.1.0
"""

import pytest

from skomirror.catalog.fbc import Catalog, add_object
from skomirror.catalog.filter import CatalogFilter, ChannelFilter, FilterError, PackageFilter, filter_catalog
from skomirror.catalog.semver import Version, VersionRange
from testkit.catalogs import fbc_documents

SPEC = {
    "foo": {"default": "stable", "channels": {
        "stable": [("foo.v1.0.0", None, []), ("foo.v1.1.0", "foo.v1.0.0", []), ("foo.v1.2.0", "foo.v1.1.0", []),
                   ("foo.v1.3.0", None, []), ("foo.v2.0.0", "foo.v1.2.0", ["foo.v1.3.0"]),
                   ("foo.v2.1.0", "foo.v2.0.0", [])],
        "beta": [("foo.v2.0.0", None, []), ("foo.v2.1.0", "foo.v2.0.0", []), ("foo.v3.0.0-rc1", "foo.v2.1.0", [])],
        "legacy": [("foo.v0.9.0", None, []), ("foo.v1.0.0", "foo.v0.9.0", [])]}},
    "bar": {"default": "alpha", "channels": {
        "alpha": [("bar.v0.1.0", None, []), ("bar.v0.2.0", "bar.v0.1.0", []), ("bar.v0.2.5", None, []),
                  ("bar.v0.3.0", "bar.v0.2.0", ["bar.v0.2.5"])],
        "stable": [("bar.v0.3.0", None, [])]}},
    "baz": {"default": "main", "channels": {"main": [("baz.v1.0.0", None, []), ("baz.v1.1.0", "baz.v1.0.0", [])]}},
}
EXTRA = [
    {"schema": "olm.deprecations", "package": "foo", "entries": [
        {"reference": {"schema": "olm.package"}, "message": "foo is old"},
        {"reference": {"schema": "olm.channel", "name": "legacy"}, "message": "legacy is old"},
        {"reference": {"schema": "olm.bundle", "name": "foo.v1.0.0"}, "message": "1.0.0 is old"}]},
    {"schema": "io.example.lifecycle", "package": "bar", "note": "kept with bar"},
    {"schema": "io.example.global", "note": "kept always"},
]


def catalog() -> Catalog:
    result = Catalog()
    for document in fbc_documents(SPEC, extra=EXTRA):
        add_object(result, document, "test")
    return result


def v(text):
    return Version.parse(text)


def between(minimum=None, maximum=None) -> VersionRange:
    return VersionRange(v(minimum) if minimum else None, v(maximum) if maximum else None)


def run(*packages, full=False):
    return filter_catalog(catalog(), CatalogFilter("registry.test/cat:v1", list(packages), full))


def names(filtered: Catalog):
    return sorted(bundle.name for bundle in filtered.all_bundles())


def channels(filtered: Catalog, package: str):
    return {c.name: sorted(e.name for e in c.entries) for c in filtered.channels if c.package == package}


def test_no_packages_keeps_the_head_of_every_channel_of_every_package():
    result = run()
    assert names(result) == ["bar.v0.3.0", "baz.v1.1.0", "foo.v1.0.0", "foo.v2.1.0", "foo.v3.0.0-rc1"]
    assert channels(result, "foo") == {"stable": ["foo.v2.1.0"], "beta": ["foo.v3.0.0-rc1"], "legacy": ["foo.v1.0.0"]}


def test_full_without_packages_keeps_everything():
    assert len(names(run(full=True))) == 8 + 4 + 2  # foo, bar, baz


def test_a_package_without_channels_or_versions_keeps_the_head_of_each_of_its_channels():
    assert names(run(PackageFilter("foo"))) == ["foo.v1.0.0", "foo.v2.1.0", "foo.v3.0.0-rc1"]


def test_listed_channels_keep_their_heads_only():
    result = run(PackageFilter("foo", [ChannelFilter("stable"), ChannelFilter("beta")]))
    assert names(result) == ["foo.v2.1.0", "foo.v3.0.0-rc1"]
    assert set(channels(result, "foo")) == {"stable", "beta"}


def test_package_min_version_follows_replaces_and_skips_per_channel():
    result = run(PackageFilter("foo", range=between(minimum="1.1.0")))
    assert names(result) == ["foo.v1.1.0", "foo.v1.2.0", "foo.v1.3.0", "foo.v2.0.0", "foo.v2.1.0"]
    # beta: the prerelease head is outside a range without prereleases, so the new head is 2.1.0
    # legacy: nothing in range, not the default channel: dropped
    assert channels(result, "foo") == {"stable": ["foo.v1.1.0", "foo.v1.2.0", "foo.v1.3.0", "foo.v2.0.0",
                                                  "foo.v2.1.0"], "beta": ["foo.v2.0.0", "foo.v2.1.0"]}


def test_package_max_version_does_not_include_the_head():
    result = run(PackageFilter("foo", range=between(maximum="1.2.0")))
    assert names(result) == ["foo.v0.9.0", "foo.v1.0.0", "foo.v1.1.0", "foo.v1.2.0"]
    assert set(channels(result, "foo")) == {"stable", "legacy"}


def test_channel_range_keeps_the_stretch_of_chain_and_its_in_range_skips():
    result = run(PackageFilter("foo", [ChannelFilter("stable", between("1.2.0", "2.0.0"))]))
    assert names(result) == ["foo.v1.2.0", "foo.v1.3.0", "foo.v2.0.0"]


def test_an_out_of_range_chain_node_is_kept_when_an_in_range_bundle_hangs_below_it():
    # 0.2.5 is in range but only reachable as a skip of 0.3.0, which is out of range: 0.3.0 comes along
    result = run(PackageFilter("bar", [ChannelFilter("alpha", between("0.2.1", "0.2.9"))]))
    assert names(result) == ["bar.v0.2.5", "bar.v0.3.0"]


def test_pinned_version_keeps_exactly_that_bundle():
    result = run(PackageFilter("foo", range=between("1.2.0", "1.2.0")))
    assert names(result) == ["foo.v1.2.0"]
    assert channels(result, "foo") == {"stable": ["foo.v1.2.0"]}


def test_full_on_a_package_keeps_every_bundle_of_its_channels():
    assert names(run(PackageFilter("bar"), full=True)) == ["bar.v0.1.0", "bar.v0.2.0", "bar.v0.2.5", "bar.v0.3.0"]


def test_default_channel_override_replaces_the_filtered_away_default():
    result = run(PackageFilter("foo", [ChannelFilter("beta")], default_channel="beta"))
    assert names(result) == ["foo.v3.0.0-rc1"]
    assert result.packages["foo"]["defaultChannel"] == "beta"


def test_prerelease_bounds_match_prereleases():
    result = run(PackageFilter("foo", [ChannelFilter("beta", between(minimum="3.0.0-rc0"))], default_channel="beta"))
    assert names(result) == ["foo.v3.0.0-rc1"]


def test_deprecations_and_other_schemas_follow_the_kept_packages_and_channels():
    result = run(PackageFilter("foo", [ChannelFilter("stable")]))
    (deprecation,) = result.deprecations
    assert [e["reference"].get("name") for e in deprecation["entries"]] == [None]  # package-level entry stays
    assert [o["schema"] for o in result.others] == ["io.example.global"]
    assert [o["schema"] for o in run(PackageFilter("bar")).others] == ["io.example.lifecycle", "io.example.global"]


@pytest.mark.parametrize("packages, full, message", [
    ([PackageFilter("nope")], False, "catalog registry.test/cat:v1: package 'nope': no such package"),
    ([PackageFilter("foo", [ChannelFilter("gamma")])], False,
     "package 'foo' channel 'gamma': no such channel (the package has: beta, legacy, stable)"),
    ([PackageFilter("foo", range=between("2.0.0", "1.0.0"))], False,
     "package 'foo': minVersion 2.0.0 is greater than maxVersion 1.0.0"),
    ([PackageFilter("foo", [ChannelFilter("stable", between("2.0.0", "1.0.0"))])], False,
     "package 'foo' channel 'stable': minVersion 2.0.0 is greater than maxVersion 1.0.0"),
    ([PackageFilter("foo", [ChannelFilter("beta")])], False,
     "package 'foo' channel 'stable': the default channel would be filtered away"),
    ([PackageFilter("foo", [ChannelFilter("beta")], default_channel="legacy")], False,
     "package 'foo' channel 'legacy': defaultChannel names a channel that is not kept"),
    ([PackageFilter("bar", range=between(minimum="0.4.0"))], False,
     "package 'bar' channel 'alpha': version range >=0.4.0 leaves the default channel empty"),
    ([PackageFilter("foo", range=between("7.7.7", "7.7.7"))], False,
     "package 'foo' channel 'stable': no bundle has version 7.7.7"),
    ([PackageFilter("foo", range=between(minimum="1.0.0"))], True,
     "package 'foo': full: true cannot be mixed with minVersion/maxVersion"),
    ([PackageFilter("foo", [ChannelFilter("stable", between(minimum="1.0.0"))], range=between(minimum="1.0.0"))],
     False, "package 'foo': minVersion/maxVersion on the package and on its channels cannot be mixed"),
])
def test_errors_name_the_catalog_package_and_channel(packages, full, message):
    with pytest.raises(FilterError) as caught:
        run(*packages, full=full)
    assert str(caught.value).startswith("catalog registry.test/cat:v1: ")
    assert message in str(caught.value)


@pytest.mark.parametrize("entries, message", [
    ([("x.v1.0.0", None, []), ("x.v2.0.0", None, [])], "multiple channel heads: x.v1.0.0, x.v2.0.0"),
    ([("x.v1.0.0", "x.v2.0.0", []), ("x.v2.0.0", "x.v1.0.0", [])], "no channel head"),
])
def test_broken_channels_are_errors(entries, message):
    broken = Catalog()
    for document in fbc_documents({"x": {"default": "c", "channels": {"c": entries}}}):
        add_object(broken, document, "test")
    with pytest.raises(FilterError, match=f"package 'x' channel 'c': {message}"):
        filter_catalog(broken, CatalogFilter("registry.test/cat:v1"))


def test_semver_ordering_and_ranges():
    assert v("1.2.0-rc.1") < v("1.2.0") < v("1.10.0") and v("v1.2") == v("1.2.0")
    assert v("1.0.0-alpha") < v("1.0.0-alpha.1") < v("1.0.0-beta.2") < v("1.0.0-beta.11") < v("1.0.0-rc.1")
    assert v("1.42.0-5+0.1687199951.p") == v("1.42.0-5")
    assert between("1.0.0").contains(v("1.5.0")) and not between("1.0.0").contains(v("1.5.0-1"))
    assert between("1.0.0-0").contains(v("1.5.0-1"))
