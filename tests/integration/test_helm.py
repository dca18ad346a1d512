"""mirror.helm on real charts, Helm's real engine, real skopeo and real registries.

The chart is built by the test (templates that compute image references from
values, a dependency chart), served from an HTTP chart repository and pushed to
a registry as an OCI chart. Its images land under oc-mirror's names, the chart
lands as an OCI artifact, and valuesFiles changes which image is picked.
"""

import hashlib
import json
import shutil
import sys

import pytest

from skomirror.errors import SkomirrorError
from skomirror.helm.choose import INSTALL_HINT, find_engine
from testkit.helmcharts import HELM_CHART_LAYER, HELM_CONFIG, ChartRepository, push_chart, webapp_chart
from testkit.images import simple_image
from tests.integration.conftest import results, skomirror, skopeo_digest

IMAGES = ["shop/web:1.0", "shop/web:2.0", "shop/migrate:1.0", "tools/sidecar:2.0", "tools/helper:3.1",
          "shop/report:1.0"]
ENV_PATHS = "{.spec.template.spec.containers[*].env[*].value}"
HEAD = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n  helm:\n"


@pytest.fixture(scope="module", autouse=True)
def helm_engine():
    """CI renders with a real engine: scripts/test.sh installs skomirror[helm]; only Python 3.9 may lack one."""
    try:
        return find_engine()
    except SkomirrorError:
        if sys.version_info < (3, 10) and not shutil.which("helm"):
            pytest.skip("Python 3.9 without the helm CLI: no Helm engine can be installed")
        pytest.fail(f"no Helm engine for the helm tests: {INSTALL_HINT}")


@pytest.fixture
def charts(tmp_path, source):
    """The images in `source`, webapp 0.1.0 in an HTTP chart repository and as oci://<source>/charts/webapp."""
    for reference in IMAGES:
        repository, tag = reference.split(":")
        source.push(repository, tag, simple_image(reference, (3000,)))
    archive = webapp_chart(source.host)
    with ChartRepository(tmp_path / "chart-repository") as repository:
        repository.add(archive)
        oci_digest = push_chart(source, "charts/webapp", archive)
        yield repository, archive, oci_digest


def manifest_of(registry, repository: str, tag: str) -> dict:
    status, _, body = registry.request("GET", f"/v2/{repository}/manifests/{tag}",
                                       headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert status == 200, f"{repository}:{tag} is not at the destination"
    return json.loads(body)


def test_chart_images_land_under_oc_mirror_names_and_values_files_pick_the_image(tmp_path, source, destination,
                                                                                  charts):
    repository, archive, oci_digest = charts
    (tmp_path / "values").mkdir()
    (tmp_path / "values" / "v2.yaml").write_text("image:\n  tag: '2.0'\n")
    isc = tmp_path / "isc.yaml"
    isc.write_text(HEAD + f"""\
    repositories:
    - name: stable
      url: {repository.url}
      charts:
      - name: webapp
        version: 0.1.0
        imagePaths: ["{ENV_PATHS}"]
    - name: registry
      url: oci://{source.host}/charts
      charts:
      - name: webapp
        version: 0.1.0
        valuesFiles: [values/v2.yaml]
""")
    workspace = tmp_path / "ws"
    run = skomirror(str(isc), f"docker://{destination.host}/mirror", "--workspace", str(workspace), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr

    # the images, where oc-mirror puts them: the source registry dropped, the path kept
    for reference in ["shop/web:1.0", "shop/web:2.0", "shop/migrate:1.0", "tools/sidecar:2.0", "tools/helper:3.1"]:
        assert skopeo_digest(f"{destination.host}/mirror/{reference}") == skopeo_digest(f"{source.host}/{reference}")
    assert skopeo_digest(f"{destination.host}/mirror/shop/report:1.0") is None  # disabled in the chart's values
    assert "'info'" in run.stderr and "not image references" in run.stderr  # LOG_LEVEL, found by imagePaths

    # the OCI chart, byte for byte; the HTTP repository's chart, packed as helm push packs it
    assert destination.manifest_digest("mirror/charts/webapp", "0.1.0") == oci_digest
    packed = manifest_of(destination, "mirror/charts/stable/webapp", "0.1.0")
    assert packed["config"]["mediaType"] == HELM_CONFIG
    (layer,) = packed["layers"]
    assert (layer["mediaType"], layer["digest"]) == (HELM_CHART_LAYER, "sha256:" + hashlib.sha256(archive).hexdigest())
    recorded = {image["destination"].split("/mirror/")[1]: image for image in results(workspace)["images"]}
    assert {image["type"] for image in recorded.values()} == {"helm"}  # exit bit 16 when one fails
    assert recorded["charts/stable/webapp:0.1.0"]["origin"] == f"webapp 0.1.0 from {repository.url}"
    assert recorded["charts/webapp:0.1.0"]["origin"] == f"oci://{source.host}/charts/webapp:0.1.0"
    resources = (workspace / "cluster-resources" / "itms-oc-mirror.yaml").read_text()
    assert f"{source.host}/shop" in resources and "charts" not in resources  # charts are pulled by helm only


def test_values_files_change_which_image_a_local_chart_names(tmp_path, source, destination, charts):
    _, archive, _ = charts
    (tmp_path / "webapp-0.1.0.tgz").write_bytes(archive)
    (tmp_path / "report.yaml").write_text("report:\n  enabled: true\nimage:\n  repository: shop/web\n  tag: '2.0'\n")

    def mapping(values_files: str) -> str:
        isc = tmp_path / "isc.yaml"
        isc.write_text(HEAD + f"""\
    local:
    - name: webapp
      path: {tmp_path / 'webapp-0.1.0.tgz'}
      imagePaths: ["{{.spec.jobTemplate.spec.template.spec.containers[*].image}}"]
{values_files}""")
        workspace = tmp_path / f"ws-{len(values_files)}"
        run = skomirror("--dry-run", str(isc), f"docker://{destination.host}", "--workspace", str(workspace),
                        cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        return (workspace / "mapping.txt").read_text()

    plain, valued = mapping(""), mapping("      valuesFiles: [report.yaml]\n")
    assert f"{source.host}/shop/web:1.0=" in plain and "shop/web:2.0" not in plain and "report" not in plain
    assert f"{source.host}/shop/web:2.0=" in valued and "shop/web:1.0" not in valued
    assert f"{source.host}/shop/report:1.0=docker://{destination.host}/shop/report:1.0" in valued
    assert f"=docker://{destination.host}/charts/webapp:0.1.0" in plain  # a local chart lands under charts/


def test_charts_and_their_images_cross_the_air_gap(tmp_path, source, registries, charts):
    repository, archive, oci_digest = charts
    isc = tmp_path / "isc.yaml"
    isc.write_text(HEAD + f"""\
    repositories:
    - name: stable
      url: {repository.url}
    - name: registry
      url: oci://{source.host}/charts
      charts:
      - name: webapp
        version: 0.1.0
""")
    disk = tmp_path / "disk"
    run = skomirror(str(isc), f"file://{disk}", "--workspace", str(tmp_path / "ws1"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    target = registries("target")
    run = skomirror("--from", f"file://{disk}", f"docker://{target.host}", "--workspace", str(tmp_path / "ws2"),
                    cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert target.manifest_digest("charts/webapp", "0.1.0") == oci_digest
    assert manifest_of(target, "charts/stable/webapp", "0.1.0")["layers"][0]["digest"] == \
        "sha256:" + hashlib.sha256(archive).hexdigest()
    for reference in ["shop/web:1.0", "shop/migrate:1.0", "tools/sidecar:2.0"]:
        assert skopeo_digest(f"{target.host}/{reference}") == skopeo_digest(f"{source.host}/{reference}")


def test_a_chart_that_does_not_render_stops_the_run_with_the_helm_bit(tmp_path, source, destination, charts):
    _, archive, _ = charts
    (tmp_path / "webapp.tgz").write_bytes(archive)
    isc = tmp_path / "isc.yaml"
    isc.write_text(HEAD + "    local:\n    - name: webapp\n      path: webapp.tgz\n      values:\n        image: null\n")
    run = skomirror(str(isc), f"docker://{destination.host}", "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert run.returncode == 16, run.stdout + run.stderr
    line = run.stderr.strip().splitlines()[-1]
    assert "isc.yaml:6: mirror.helm.local[0]: chart webapp.tgz: cannot be rendered" in line and "image" in line
    assert "Traceback" not in run.stderr and destination.catalog() == []


def test_no_engine_is_one_line_saying_what_to_install(tmp_path, source, destination, charts):
    _, archive, _ = charts
    (tmp_path / "webapp.tgz").write_bytes(archive)
    isc = tmp_path / "isc.yaml"
    isc.write_text(HEAD + "    local:\n    - name: webapp\n      path: webapp.tgz\n")
    empty = tmp_path / "bin"
    empty.mkdir()
    (empty / "skopeo").symlink_to(shutil.which("skopeo"))
    run = skomirror(str(isc), f"docker://{destination.host}", "--workspace", str(tmp_path / "ws"), cwd=tmp_path,
                    env={"PATH": str(empty), "SKOMIRROR_HELM_ENGINE": "cli"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr.strip().splitlines()[-1].endswith(
        "helm charts need Helm's template engine, and the helm CLI is not on PATH: " + INSTALL_HINT)


def _available_engines():
    engines = [pytest.param("sdk", id="helm-python-sdk")]
    engines.append(pytest.param("cli", id="helm-cli", marks=pytest.mark.skipif(
        not shutil.which("helm"), reason="the helm CLI is not on PATH here (CI has only the SDK)")))
    return engines


@pytest.mark.parametrize("choice", _available_engines())
def test_each_engine_renders_the_chart_and_packs_its_directory_alike(tmp_path, choice):
    import io
    import tarfile

    from skomirror.helm.images import find_images
    if choice == "sdk" and sys.version_info < (3, 10):
        pytest.skip("helm-python-sdk needs Python >= 3.10")
    engine = find_engine(choice)
    archive = tmp_path / "webapp.tgz"
    archive.write_bytes(webapp_chart("quay.io"))
    with tarfile.open(fileobj=io.BytesIO(archive.read_bytes())) as tar:
        tar.extractall(tmp_path / "src")
    (tmp_path / "src" / "webapp" / ".helmignore").write_text("ignored.yaml\n")
    (tmp_path / "src" / "webapp" / "templates" / "ignored.yaml").write_text("{{ fail \"packed despite .helmignore\" }}")
    packed = engine.package(tmp_path / "src" / "webapp", tmp_path / "packed")
    for chart in (archive, packed):
        found = find_images(engine.render(chart, {"migrate": {"tag": "9"}}, tmp_path / "work"))
        assert sorted(found.images) == ["quay.io/shop/migrate:9", "quay.io/shop/web:1.0", "quay.io/tools/sidecar:2.0"]


def test_a_wrong_version_a_tampered_archive_and_two_charts_on_one_tag_are_refused(tmp_path, source, destination, charts):
    repository, archive, _ = charts
    (repository.root / "stable" / "webapp-0.1.0.tgz").write_bytes(webapp_chart("elsewhere.example.com"))
    (tmp_path / "webapp.tgz").write_bytes(archive)
    (tmp_path / "other.tgz").write_bytes(webapp_chart("other.example.com"))  # same name and version, other bytes
    for helm, expected in [
        ("    local:\n    - name: webapp\n      path: webapp.tgz\n    - name: other\n      path: other.tgz\n",
         "isc.yaml:8: mirror.helm.local[1]: chart other.tgz: differs from webapp.tgz, and both would land at "
         "charts/webapp:0.1.0"),
        ("    local:\n    - name: webapp\n      path: webapp.tgz\n      version: 0.2.0\n",
         "isc.yaml:6: mirror.helm.local[0]: chart webapp.tgz: is version 0.1.0, not 0.2.0 as written"),
        (f"    repositories:\n    - name: stable\n      url: {repository.url}\n      charts:\n      - name: webapp\n",
         f"isc.yaml:9: mirror.helm.repositories[0].charts[0]: chart webapp from {repository.url}: {repository.url}/"
         f"webapp-0.1.0.tgz: the archive's sha256 is not the digest its index gives"),
    ]:
        (tmp_path / "isc.yaml").write_text(HEAD + helm)
        run = skomirror("isc.yaml", f"docker://{destination.host}", "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
        assert run.returncode == 16 and expected in run.stderr.strip().splitlines()[-1], run.stderr
    assert destination.catalog() == []


def test_a_chart_whose_image_fails_is_not_copied_and_the_run_exits_with_the_helm_bit(tmp_path, source, destination,
                                                                                      charts):
    _, archive, _ = charts
    (tmp_path / "webapp.tgz").write_bytes(archive)
    (tmp_path / "isc.yaml").write_text(HEAD + "    local:\n    - name: webapp\n      path: webapp.tgz\n      values:\n"
                                              "        image: {repository: shop/missing}\n")
    run = skomirror("isc.yaml", f"docker://{destination.host}", "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert run.returncode == 16, run.stdout + run.stderr
    assert skopeo_digest(f"{destination.host}/shop/migrate:1.0") is not None  # the chart's other images are there
    assert destination.manifest_digest("charts/webapp", "0.1.0") is None  # a chart there means its images are
    status = {image["destination"]: image["status"] for image in results(tmp_path / "ws")["images"]}
    assert status[f"docker://{destination.host}/shop/missing:1.0"] == "failed"
