"""Operator catalogs end to end: a generated catalog in a real registry, filtered, mirrored and rebuilt."""

import subprocess

import yaml

from skomirror.catalog.fbc import load_catalog
from skomirror.catalog.image import extract_configs
from skomirror.naming import MirrorName
from skomirror.store import Store
from testkit.catalogs import seed_catalog
from tests.integration.conftest import results, skomirror, skopeo_digest
from tests.unit.test_catalog_filter import SPEC

EXPECTED_FOO = ["foo.v1.1.0", "foo.v1.2.0", "foo.v1.3.0", "foo.v2.0.0"]  # range 1.1.0-2.0.0, worked out by hand
EXPECTED_BAR = ["bar.v0.3.0"]  # heads only


def isc(path, catalog: str, packages: str):
    path.write_text(f"""kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v2alpha1
mirror:
  operators:
  - catalog: {catalog}
    packages:
{packages}""")
    return path


PACKAGES = """    - name: foo
      minVersion: 1.1.0
      maxVersion: 2.0.0
    - name: bar
"""


def pull_catalog(tmp_path, reference: str) -> set:
    """Pull the mirrored catalog back with skopeo and read its FBC: the packages and bundles it serves."""
    store = Store(tmp_path / "pulled").prepare()
    name = MirrorName("catalog", "pulled")
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--all", "--src-tls-verify=false",
                    "--dest-shared-blob-dir", str(store.blobs), f"docker://{reference}", store.spec(name)],
                   check=True, capture_output=True)
    catalog = load_catalog(extract_configs(store, store.tagged_digest(name), tmp_path / "pulled-configs"))
    return set(catalog.packages), [bundle.name for bundle in catalog.all_bundles()]


def test_filtered_catalog_bundles_and_related_images_are_mirrored(tmp_path, source, destination):
    seeded = seed_catalog(source, SPEC)
    config = isc(tmp_path / "isc.yaml", seeded.reference, PACKAGES)

    dry = skomirror(str(config), f"docker://{destination.host}/mirror", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    lines = dry.stderr.splitlines()
    assert f"catalog {seeded.reference} (" in dry.stderr
    assert "5 bundles, 6 related images" in dry.stderr  # 4 foo + 1 bar; their 5 operands and the shared proxy
    for line in ("  package bar", "    channel alpha: bar.v0.3.0", "    channel stable: bar.v0.3.0",
                 "  package foo", "    channel beta: foo.v2.0.0",
                 "    channel stable: foo.v1.1.0, foo.v1.2.0, foo.v1.3.0, foo.v2.0.0"):
        assert line in lines, line
    assert "dry run: 12 images planned, 12 to copy" in dry.stderr  # 5 bundles, 6 related, the catalog
    assert destination.catalog() == []

    result = skomirror(str(config), f"docker://{destination.host}/mirror", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    selected = EXPECTED_FOO + EXPECTED_BAR
    expected = {}
    for bundle in selected:
        for reference in [seeded.bundles[bundle]] + seeded.related[bundle]:
            host_path, digest = reference.split("@")
            path = host_path.split("/", 1)[1]
            expected[f"{path}:sha256-{digest.split(':')[1]}"] = digest
    for name, digest in expected.items():
        assert skopeo_digest(f"{destination.host}/mirror/{name}") == digest, name
    repositories = set(destination.catalog())
    assert repositories == {f"mirror/{name.split(':')[0]}" for name in expected} | {"mirror/catalogs/test-index"}
    tags = {tag for repository in repositories if "catalogs" not in repository
            for tag in destination.tags(repository)}
    assert len(tags) == len(expected)  # exactly the expected bundles and related images, nothing more

    packages, bundles = pull_catalog(tmp_path, f"{destination.host}/mirror/catalogs/test-index:v1")
    assert packages == {"foo", "bar"} and bundles == sorted(EXPECTED_BAR) + sorted(EXPECTED_FOO)

    resources = tmp_path / "skomirror-workspace" / "cluster-resources"
    catalog_source = yaml.safe_load((resources / "cs-test-index-v1.yaml").read_text())
    assert catalog_source["kind"] == "CatalogSource" and catalog_source["apiVersion"] == "operators.coreos.com/v1alpha1"
    assert catalog_source["metadata"]["namespace"] == "openshift-marketplace"
    assert catalog_source["spec"] == {"image": f"{destination.host}/mirror/catalogs/test-index:v1",
                                      "sourceType": "grpc"}
    (idms,) = list(yaml.safe_load_all((resources / "idms-oc-mirror.yaml").read_text()))
    assert idms["kind"] == "ImageDigestMirrorSet" and idms["metadata"]["name"] == "idms-operator-0"
    mirrors = {entry["source"]: entry["mirrors"] for entry in idms["spec"]["imageDigestMirrors"]}
    assert mirrors[f"{source.host}/foo"] == [f"{destination.host}/mirror/foo"]
    assert mirrors[f"{source.host}/shared"] == [f"{destination.host}/mirror/shared"]

    rerun = skomirror(str(config), f"docker://{destination.host}/mirror", cwd=tmp_path)
    assert rerun.returncode == 0
    assert {i["status"] for i in results(tmp_path / "skomirror-workspace")["images"]} == {"skipped"}


def test_a_bundle_whose_related_image_fails_is_skipped_and_reported(tmp_path, source, destination):
    spec = {"solo": {"default": "stable", "channels": {"stable": [("solo.v1.0.0", None, []),
                                                                   ("solo.v1.1.0", "solo.v1.0.0", [])]}},
            "duo": {"default": "stable", "channels": {"stable": [("duo.v2.0.0", None, [])]}}}
    seeded = seed_catalog(source, spec, multi_arch=False, missing_related=["solo.v1.1.0"])
    config = isc(tmp_path / "isc.yaml", seeded.reference, "    - name: solo\n    - name: duo\n")
    result = skomirror(str(config), f"docker://{destination.host}", cwd=tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr
    images = {i["origin"]: i for i in results(tmp_path / "skomirror-workspace")["images"]}
    bundle = images[seeded.bundles["solo.v1.1.0"]]
    assert bundle["status"] == "failed" and bundle["attempts"] == 0
    assert "skipping operator bundle" in bundle["error"]["message"]
    assert images[seeded.bundles["duo.v2.0.0"]]["status"] == "copied"
    assert skopeo_digest(f"{destination.host}/{seeded.bundles['solo.v1.1.0'].split('/', 1)[1].replace('@sha256:', ':sha256-')}") is None
    errors = (tmp_path / "skomirror-workspace" / "mirroring_errors.txt").read_text()
    assert "skipping operator bundle" in errors


def test_unknown_package_stops_before_copying_with_exit_4(tmp_path, source, destination):
    seeded = seed_catalog(source, SPEC, multi_arch=False)
    config = isc(tmp_path / "isc.yaml", seeded.reference, "    - name: nosuch\n")
    result = skomirror(str(config), f"docker://{destination.host}", cwd=tmp_path)
    assert result.returncode == 4
    assert f"catalog {seeded.reference}: package 'nosuch': no such package in the catalog" in result.stderr
    assert destination.catalog() == []


def test_full_catalog_without_packages_is_copied_unchanged_with_every_bundle(tmp_path, source, destination):
    spec = {"solo": {"default": "stable", "channels": {"stable": [("solo.v1.0.0", None, []),
                                                                   ("solo.v1.1.0", "solo.v1.0.0", [])]}}}
    seeded = seed_catalog(source, spec, repository="catalogs/full-index", tag="v2")
    config = tmp_path / "isc.yaml"
    config.write_text(f"kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n"
                      f"  operators:\n  - catalog: {seeded.reference}\n    full: true\n")
    result = skomirror(str(config), f"docker://{destination.host}", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert destination.manifest_digest("catalogs/full-index", "v2") == \
        source.manifest_digest("catalogs/full-index", "v2")  # not rebuilt
    for bundle in ("solo.v1.0.0", "solo.v1.1.0"):
        path, digest = seeded.bundles[bundle].split("/", 1)[1].split("@")
        assert destination.manifest_digest(path, f"sha256-{digest.split(':')[1]}") == digest
