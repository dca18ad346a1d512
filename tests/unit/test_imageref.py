import pytest

from skomirror.errors import InvalidReference
from skomirror.imageref import ImageRef

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, registry, path, tag, digest", [
    ("quay.io/ns/img:1.0", "quay.io", "ns/img", "1.0", None),
    ("docker://quay.io/ns/img:1.0", "quay.io", "ns/img", "1.0", None),
    ("registry.example.com:5000/a/b/c@" + DIGEST, "registry.example.com:5000", "a/b/c", None, DIGEST),
    ("localhost/img:latest", "localhost", "img", "latest", None),
    ("127.0.0.1:5000/x:v1@" + DIGEST, "127.0.0.1:5000", "x", "v1", DIGEST),
])
def test_parses_references(text, registry, path, tag, digest):
    ref = ImageRef.parse(text)
    assert (ref.registry, ref.path, ref.tag, ref.digest) == (registry, path, tag, digest)


@pytest.mark.parametrize("text, reason", [
    ("quay.io/ns/img", "no tag or digest"),
    ("hello-world", "no tag or digest"),
    ("ubi8/ubi", "no tag or digest"),
    ("UBI8/ubi:latest", "invalid repository path component 'UBI8'"),
    ("Hello-World:latest", "invalid repository path component 'Hello-World'"),
    ("/hello-world:latest", "invalid repository path component ''"),
    ("ubi8//ubi:latest", "invalid repository path component ''"),
    ("hello-world:" + "t" * 129, "invalid tag"),
    ("hello-world@sha256:1234", "invalid digest"),
    ("localhost:5000/UPPER:1", "invalid repository path component 'UPPER'"),
    ("localhost:5000/x", "no tag or digest"),
    ("quay.io/NS/img:1", "invalid repository path component"),
    ("quay.io/ns/img@sha256:1234", "invalid digest"),
    ("quay.io/ns/img:" + "t" * 129, "invalid tag"),
    ("oci:///tmp/layout", "unsupported transport"),
    ("", "not an image reference"),
])
def test_rejects_bad_references(text, reason):
    with pytest.raises(InvalidReference, match=reason):
        ImageRef.parse(text)


def test_pulls_by_digest_when_both_tag_and_digest_are_given():
    ref = ImageRef.parse(f"quay.io/ns/img:1.0@{DIGEST}")
    assert ref.pull_spec == f"quay.io/ns/img@{DIGEST}"
    assert ref.transport_spec == f"docker://quay.io/ns/img@{DIGEST}"
    assert str(ref) == f"quay.io/ns/img:1.0@{DIGEST}"


def test_pulls_by_tag_without_digest():
    assert ImageRef.parse("quay.io/ns/img:1.0").pull_spec == "quay.io/ns/img:1.0"


# Short names, resolved as oc-mirror v2 resolves them: pulled from where containers/image (skopeo)
# normalizes them (docker.io, docker.io/library for one component) and landing at oc-mirror's path
# (its ParseRef takes the first of two or more components for the registry).
@pytest.mark.parametrize("text, pull_spec, destination_path, tag, digest", [
    ("hello-world:latest", "docker.io/library/hello-world:latest", "hello-world", "latest", None),
    ("docker://hello-world:latest", "docker.io/library/hello-world:latest", "hello-world", "latest", None),
    ("test-catalog1:latest", "docker.io/library/test-catalog1:latest", "test-catalog1", "latest", None),
    ("ubi8/ubi:latest", "docker.io/ubi8/ubi:latest", "ubi", "latest", None),
    ("a/b/c:1.0", "docker.io/a/b/c:1.0", "b/c", "1.0", None),
    (f"hello-world@{DIGEST}", f"docker.io/library/hello-world@{DIGEST}", "hello-world", None, DIGEST),
    (f"ubi8/ubi@{DIGEST}", f"docker.io/ubi8/ubi@{DIGEST}", "ubi", None, DIGEST),
    (f"hello-world:latest@{DIGEST}", f"docker.io/library/hello-world@{DIGEST}", "hello-world", "latest", DIGEST),
    (f"ubi8/ubi:8.10@{DIGEST}", f"docker.io/ubi8/ubi@{DIGEST}", "ubi", "8.10", DIGEST),
    # distribution's host rule: '.', ':' or localhost makes the first component a registry
    ("localhost:5000/x:v1", "localhost:5000/x:v1", "x", "v1", None),
    ("localhost/x/y:v1", "localhost/x/y:v1", "x/y", "v1", None),
    ("quay.io/ns/img:1", "quay.io/ns/img:1", "ns/img", "1", None),
    # docker.io written out: pulled from the normalized path, mirrored under the path as written
    ("docker.io/hello-world:latest", "docker.io/library/hello-world:latest", "hello-world", "latest", None),
    ("docker.io/library/hello-world:latest", "docker.io/library/hello-world:latest", "library/hello-world",
     "latest", None),
    ("index.docker.io/ns/img:1", "docker.io/ns/img:1", "ns/img", "1", None),
])
def test_short_names_are_resolved_as_oc_mirror_does(text, pull_spec, destination_path, tag, digest):
    ref = ImageRef.parse(text)
    assert (ref.pull_spec, ref.destination_path, ref.tag, ref.digest) == (pull_spec, destination_path, tag, digest)
    assert ImageRef.parse(str(ref)).pull_spec == pull_spec  # what is printed parses back to the same place


def test_a_short_name_keeps_what_is_pulled_apart_from_where_it_lands():
    ref = ImageRef.parse("ubi8/ubi:latest")
    assert (ref.registry, ref.path, ref.mirror_path) == ("docker.io", "ubi8/ubi", "ubi")
    assert ref.transport_spec == "docker://docker.io/ubi8/ubi:latest"
    assert ImageRef.parse("quay.io/ns/img:1").mirror_path is None  # a full name lands at its own path
