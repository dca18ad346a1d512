"""The distribution 2.8 same-repository race: many copies into ONE repository lose no image.

On this registry, plain parallel `skopeo copy` of one image under 8 tags into one
repository failed 9 times in 48 copies (6 rounds, measured while writing this test),
with `failed to read from destination repository ...: 500` and a hidden
`manifest blob unknown`. skomirror must get every image there on the first attempt:
a retry that papered over the race would show up as attempts > 1.
"""


from testkit.images import make_index, make_layer, simple_image
from testkit.registry import Registry
from tests.integration.conftest import results, skomirror, skopeo_digest, write_isc

ROUNDS = 5


def mirror_rounds(tmp_path, source: Registry, tags, rounds: int = ROUNDS):
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/shared:{tag}" for tag in tags])
    for round_number in range(rounds):
        with Registry(tmp_path / f"destination-{round_number}") as destination:  # fresh: every blob is new
            workspace = tmp_path / f"workspace-{round_number}"
            result = skomirror(str(isc), f"docker://{destination.host}/mirror", "--parallel-images", "8",
                               "--workspace", str(workspace), cwd=tmp_path)
            assert result.returncode == 0, f"round {round_number}: {result.stdout}{result.stderr}"
            images = results(workspace)["images"]
            assert [(i["status"], i["attempts"]) for i in images] == [("copied", 1)] * len(tags), images
            for tag in tags:
                assert skopeo_digest(f"{destination.host}/mirror/apps/shared:{tag}") == \
                    source.manifest_digest("apps/shared", tag)


def test_eight_images_sharing_a_base_layer_into_one_repository(tmp_path, source):
    base = [make_layer("race-base", 300_000), make_layer("race-base-2", 100_000)]
    tags = [f"v{i}" for i in range(8)]
    for i, tag in enumerate(tags):
        source.push("apps/shared", tag, make_index([simple_image(f"build-{i}", (50_000,), base=base, architecture=a)
                                                   for a in ("amd64", "arm64")]))
    mirror_rounds(tmp_path, source, tags)


def test_one_image_under_eight_tags_into_one_repository(tmp_path, source):
    base = [make_layer(f"alias-base-{j}", 300_000) for j in range(4)]
    image = make_index([simple_image("aliased", (200_000,), base=base, architecture=a) for a in ("amd64", "arm64")])
    tags = [f"alias-{i}" for i in range(8)]
    for tag in tags:
        source.push("apps/shared", tag, image)
    mirror_rounds(tmp_path, source, tags)


def test_thirty_images_sharing_base_layers_into_one_repository(tmp_path, source):
    """Release components all land in openshift/release: 30 builds on two shared bases, 8 copies at a time."""
    bases = [[make_layer("release-base", 200_000), make_layer("release-rhel", 100_000)],
             [make_layer("release-base", 200_000), make_layer("release-tools", 80_000)]]
    tags = [f"component-{i:02d}" for i in range(30)]
    for i, tag in enumerate(tags):
        source.push("apps/shared", tag, simple_image(f"component-{i}", (20_000,), base=bases[i % 2]))
    mirror_rounds(tmp_path, source, tags, rounds=1)
