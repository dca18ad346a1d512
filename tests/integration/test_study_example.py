"""examples/study-v1alpha2.yaml, the originating study's ISC, dry-run against local stand-ins: every section planned.

The file is used as it is, but for one change: `registry.redhat.io` becomes the local source registry, which
stands for it (the catalog, ubi8/ubi, the graph's base image, and the release payloads the local update
service names). `hello-world:latest` keeps its short name: it is resolved to docker.io/library/hello-world as
oc-mirror and skopeo resolve it, and a registries.conf in the run's HOME sends docker.io to a local stand-in
for Docker Hub, which is how a bastion with a Hub mirror is set up too.
"""

from pathlib import Path

from testkit.catalogs import seed_catalog
from testkit.images import simple_image
from testkit.releases import graph_data_tarball, seed_releases
from testkit.updateservice import UpdateServiceStub, graph_document
from tests.integration.conftest import PROJECT, skomirror

EXAMPLE = PROJECT / "examples" / "study-v1alpha2.yaml"
COMPONENTS = ["cli", "installer", "machine-config-operator"]
UBI9_DIGEST = "sha256:20f695d2a91352d4eaa25107535126727b5945bff38ed36a3e59590f495046f0"
PACKAGES = {  # the three packages of the example (head of each default channel) and one it does not ask for
    "aws-load-balancer-operator": {"default": "stable-v1", "channels": {
        "stable-v1": [("aws-load-balancer-operator.v1.0.0", None, []),
                      ("aws-load-balancer-operator.v1.1.0", "aws-load-balancer-operator.v1.0.0", [])]}},
    "3scale-operator": {"default": "threescale-2.14", "channels": {
        "threescale-2.14": [("3scale-operator.v0.11.0", None, [])]}},
    "node-observability-operator": {"default": "alpha", "channels": {
        "alpha": [("node-observability-operator.v0.1.0", None, [])]}},
    "cluster-logging": {"default": "stable", "channels": {"stable": [("cluster-logging.v5.8.0", None, [])]}},
}
HEADS = ["aws-load-balancer-operator.v1.1.0", "3scale-operator.v0.11.0", "node-observability-operator.v0.1.0"]


def study_isc(tmp_path: Path, source_host: str) -> Path:
    text = EXAMPLE.read_text()
    local = text.replace("registry.redhat.io", source_host)
    assert local.replace(source_host, "registry.redhat.io") == text  # nothing else of the file is changed
    path = tmp_path / "study-v1alpha2.yaml"
    path.write_text(local)
    return path


def docker_hub_via(home: Path, hub_host: str) -> None:
    conf = home / ".config" / "containers" / "registries.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f'[[registry]]\nprefix = "docker.io"\nlocation = "{hub_host}"\ninsecure = true\n')


def test_the_study_example_plans_every_section(tmp_path, source, registries, destination):
    releases = seed_releases(source, ["4.15.16", "4.15.17"], COMPONENTS)
    nodes = [(version, release.payload) for version, release in releases.items()]
    graph = graph_document(nodes, [("4.15.16", "4.15.17")], "stable-4.15")
    catalog = seed_catalog(source, PACKAGES, repository="redhat/redhat-operator-index", tag="v4.15",
                           multi_arch=False)
    source.push("ubi8/ubi", "latest", simple_image("ubi8", (5_000,)))
    source.push("ubi9/ubi", "latest", simple_image("ubi9-graph-base", (5_000,)))
    hub = registries("hub")
    hub.push("library/hello-world", "latest", simple_image("hello-world", (1_000,)))
    docker_hub_via(tmp_path / "home", hub.host)
    config = study_isc(tmp_path, source.host)
    signatures = {release.payload.split("@")[1]: b"signature" for release in releases.values()}
    dest = f"{destination.host}/mirror"

    with UpdateServiceStub({("stable-4.15", "amd64"): graph}, graph_data_tarball({"stable-4.15": ["4.15.17"]}),
                           signatures) as stub:
        dry = skomirror(str(config), f"docker://{dest}", "--dry-run", "--graph-data", f"{stub.url}/graph-data.tar.gz",
                        "--graph-base-image", f"{source.host}/ubi9/ubi:latest", "--signature-url",
                        f"{stub.url}/signatures", cwd=tmp_path,
                        env={"UPDATE_URL_OVERRIDE": f"{stub.url}/api/upgrades_info/v1/graph",
                             "HOME": str(tmp_path / "home")})
    out = dry.stderr
    planned = [line.strip() for line in out.splitlines() if " -> " in line]

    def lands(source_spec: str, destination_name: str) -> bool:
        return any(line.startswith(f"{source_spec} -> {dest}/{destination_name} (") for line in planned)

    assert "releases (amd64): 4.15.17" in out.splitlines(), out  # pinned: 4.15.16 is in the channel, not taken
    assert lands(releases["4.15.17"].payload, "openshift/release-images:4.15.17-x86_64")
    for name, component in releases["4.15.17"].components.items():
        assert lands(component, f"openshift/release:4.15.17-x86_64-{name}"), name
    assert lands("localhost/openshift/graph-image:latest", "openshift/graph-image:latest")

    assert f"catalog {source.host}/redhat/redhat-operator-index:v4.15 (" in out
    assert "3 bundles, 4 related images" in out  # three operands and the shared proxy
    for bundle in HEADS:
        path, digest = catalog.bundles[bundle].split("/", 1)[1].split("@")
        assert lands(catalog.bundles[bundle], f"{path}:sha256-{digest.split(':')[1]}"), bundle
    assert "cluster-logging" not in out
    assert any(f"-> {dest}/redhat/redhat-operator-index:v4.15 (" in line for line in planned)

    assert lands(f"{source.host}/ubi8/ubi:latest", "ubi8/ubi:latest")
    assert lands("docker.io/library/hello-world:latest", "hello-world:latest")  # oc-mirror's name for it
    (log,) = (tmp_path / "skomirror-workspace" / "logs").rglob("*_hello-world_latest.log")
    text = log.read_text()  # the survey asked the stand-in registries.conf names, never docker.io itself
    assert "/library/hello-world, as registries.conf says)" in text and "registry-1.docker.io" not in text
    # the one image no stand-in can hold: a manifest with Red Hat's digest. It is planned and its name is
    # oc-mirror's; the local stand-in answers that it does not have it.
    mapping = (tmp_path / "skomirror-workspace" / "mapping.txt").read_text().splitlines()
    assert f"docker://{source.host}/ubi9/ubi@{UBI9_DIGEST}=docker://{dest}/ubi9/ubi:sha256-{UBI9_DIGEST[7:]}" \
        in mapping
    unreadable = [line.strip() for line in out.splitlines() if line.strip().startswith("cannot read")]
    assert len(unreadable) == 1 and unreadable[0].startswith(f"cannot read {source.host}/ubi9/ubi@{UBI9_DIGEST}:")
    total = 1 + len(COMPONENTS) + 1 + 3 + 4 + 1 + 3  # payload, components, graph; bundles, related, catalog; extra
    assert f"dry run: {total} images planned, {total - 1} to copy" in out
    assert dry.returncode == 8, dry.stdout + dry.stderr  # additional images: one unreadable
    assert destination.catalog() == []
    assert "Traceback" not in dry.stderr
