"""`catalog: oci://PATH`: a catalog kept in a local OCI layout, filtered, rebuilt and mirrored under oc-mirror's name.

The layout is made as a user makes one: `skopeo copy docker://CATALOG oci:DIR:TAG`, from a catalog whose
bundles and related images are in a source registry. oc-mirror v2 pushes it to `<DEST>/<targetCatalog or the
directory's name>:<targetTag or latest>` and names its CatalogSource after that.
"""

import shutil

import yaml

from testkit.catalogs import catalog_layout, seed_catalog
from tests.integration.conftest import results, skomirror
from tests.integration.test_operators import EXPECTED_BAR, EXPECTED_FOO, PACKAGES, isc, pull_catalog
from tests.unit.test_catalog_filter import SPEC


def landed_bundles(seeded, destination, prefix: str) -> dict:
    """bundle or related image destination -> (expected digest, digest found) for the selected bundles."""
    found = {}
    for bundle in EXPECTED_FOO + EXPECTED_BAR:
        for reference in [seeded.bundles[bundle]] + seeded.related[bundle]:
            host_path, digest = reference.split("@")
            path = "/".join(filter(None, (prefix, host_path.split("/", 1)[1])))
            found[path] = (digest, destination.manifest_digest(path, f"sha256-{digest.split(':')[1]}"))
    return found


def catalog_resources(workspace, host_path: str, name: str) -> None:
    resources = workspace / "cluster-resources"
    catalog_source = yaml.safe_load((resources / f"cs-{name}.yaml").read_text())
    assert catalog_source["metadata"] == {**catalog_source["metadata"], "name": f"cs-{name}",
                                          "namespace": "openshift-marketplace"}
    assert catalog_source["spec"] == {"image": host_path, "sourceType": "grpc"}
    cluster_catalog = yaml.safe_load((resources / f"cc-{name}.yaml").read_text())
    assert cluster_catalog["spec"]["source"]["image"]["ref"] == host_path


def test_an_oci_catalog_is_filtered_rebuilt_and_lands_under_its_directory_name(tmp_path, source, destination):
    seeded = seed_catalog(source, SPEC)
    layout = tmp_path / "catalogs" / "my-index"
    catalog_layout(seeded.reference, layout, "v1")
    index_before = (layout / "index.json").read_bytes()
    config = isc(tmp_path / "isc.yaml", "oci://./catalogs/my-index", PACKAGES)  # relative to the working dir
    dest = f"docker://{destination.host}/mirror"

    dry = skomirror(str(config), dest, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "catalog oci://./catalogs/my-index (" in dry.stderr
    assert "5 bundles, 6 related images" in dry.stderr
    assert f"-> {destination.host}/mirror/my-index:latest" in dry.stderr
    assert "dry run: 12 images planned, 12 to copy" in dry.stderr  # 5 bundles, 6 related, the catalog
    assert destination.catalog() == []

    result = skomirror(str(config), dest, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    packages, bundles = pull_catalog(tmp_path, f"{destination.host}/mirror/my-index:latest")
    assert packages == {"foo", "bar"} and bundles == sorted(EXPECTED_BAR) + sorted(EXPECTED_FOO)
    assert destination.tags("mirror/my-index") == ["latest"]
    for path, (expected, found) in landed_bundles(seeded, destination, "mirror").items():
        assert found == expected, path
    assert "mirror/catalogs/test-index" not in destination.catalog()  # the registry original is not involved
    catalog_resources(tmp_path / "skomirror-workspace", f"{destination.host}/mirror/my-index:latest",
                      "my-index-latest")
    assert (layout / "index.json").read_bytes() == index_before  # the user's layout is only read

    rerun = skomirror(str(config), dest, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert {i["status"] for i in results(tmp_path / "skomirror-workspace")["images"]} == {"skipped"}


def test_an_oci_catalog_travels_in_the_archives_and_needs_nothing_else_on_the_far_side(tmp_path, source,
                                                                                        registries):
    seeded = seed_catalog(source, SPEC, multi_arch=False)
    layout = tmp_path / "catalogs" / "my-index"
    catalog_layout(seeded.reference, layout, "v1")
    config = isc(tmp_path / "isc.yaml", f"oci://{layout}", PACKAGES + "    targetTag: v4.18\n")
    disk = tmp_path / "disk"
    m2d = skomirror(str(config), f"file://{disk}", "--workspace", str(tmp_path / "ws-connected"), cwd=tmp_path)
    assert m2d.returncode == 0, m2d.stdout + m2d.stderr

    shutil.rmtree(tmp_path / "catalogs")  # the disconnected side has the archives only: no layout, no source
    source.stop()
    far = registries("far")
    d2m = skomirror(f"docker://{far.host}", "--from", str(disk), "--workspace", str(tmp_path / "ws-far"),
                    cwd=tmp_path)
    assert d2m.returncode == 0, d2m.stdout + d2m.stderr
    packages, bundles = pull_catalog(tmp_path, f"{far.host}/my-index:v4.18")
    assert packages == {"foo", "bar"} and bundles == sorted(EXPECTED_BAR) + sorted(EXPECTED_FOO)
    for path, (expected, found) in landed_bundles(seeded, far, "").items():
        assert found == expected, path
    catalog_resources(tmp_path / "ws-far", f"{far.host}/my-index:v4.18", "my-index-v4-18")


def test_a_whole_oci_catalog_is_copied_unchanged_under_its_target_catalog(tmp_path, source, destination):
    spec = {"solo": {"default": "stable", "channels": {"stable": [("solo.v1.0.0", None, [])]}}}
    seeded = seed_catalog(source, spec, repository="catalogs/full-index", tag="v2")
    layout = tmp_path / "full"
    digest = catalog_layout(seeded.reference, layout, "v2")
    config = tmp_path / "isc.yaml"
    config.write_text("kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n"
                      "  operators:\n  - catalog: oci://full\n    full: true\n    targetCatalog: ops/solo-index\n")
    result = skomirror(str(config), f"docker://{destination.host}", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert destination.manifest_digest("ops/solo-index", "latest") == digest  # not rebuilt
    path, bundle = seeded.bundles["solo.v1.0.0"].split("/", 1)[1].split("@")
    assert destination.manifest_digest(path, f"sha256-{bundle.split(':')[1]}") == bundle
    catalog_resources(tmp_path / "skomirror-workspace", f"{destination.host}/ops/solo-index:latest",
                      "solo-index-latest")


def test_a_missing_layout_is_one_line_naming_the_entry_and_nothing_is_copied(tmp_path, destination):
    config = isc(tmp_path / "isc.yaml", "oci://./no-such-layout", PACKAGES)
    result = skomirror(str(config), f"docker://{destination.host}", cwd=tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if "warning" not in line]
    assert errors == [f"skomirror: error: {config}:5: mirror.operators[0]: catalog oci://./no-such-layout: "
                      f"{tmp_path}/no-such-layout does not exist"], result.stderr
    assert destination.catalog() == []
