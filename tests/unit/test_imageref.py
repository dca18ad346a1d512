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
    ("ubi9/ubi:latest", "no registry host"),
    ("hello-world:latest", "no registry host"),
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
