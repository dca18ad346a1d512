from pathlib import Path

import pytest

from skomirror.errors import SkomirrorError
from skomirror.imageref import ImageRef
from skomirror.naming import (DiskDestination, RegistryDestination, limit_nested_paths, mirror_name,
                              parse_destination, registry_reference)

HEX = "f306" + "0" * 56 + "ebea"
DEST = RegistryDestination("mirror.example.com:5000", "ocp")


def dest_of(name: str, max_nested_paths: int = 0, **targets) -> str:
    return str(registry_reference(DEST, mirror_name(ImageRef.parse(name), **targets), max_nested_paths))


def test_drops_the_source_registry_and_keeps_the_path():
    assert dest_of("registry.redhat.io/ubi9/ubi:latest") == "mirror.example.com:5000/ocp/ubi9/ubi:latest"


@pytest.mark.parametrize("name, expected", [
    # oc-mirror v2 (internal/pkg/image/image.go ParseRef, additional/local_stored_collector.go): a single
    # component is the path; of two or more, the first is taken for the registry and dropped
    ("hello-world:latest", "mirror.example.com:5000/ocp/hello-world:latest"),
    ("test-catalog1:latest", "mirror.example.com:5000/ocp/test-catalog1:latest"),
    ("ubi8/ubi:latest", "mirror.example.com:5000/ocp/ubi:latest"),
    ("a/b/c:1", "mirror.example.com:5000/ocp/b/c:1"),
    (f"hello-world@sha256:{HEX}", f"mirror.example.com:5000/ocp/hello-world:sha256-{HEX}"),
    (f"ubi8/ubi@sha256:{HEX}", f"mirror.example.com:5000/ocp/ubi:sha256-{HEX}"),
    (f"hello-world:latest@sha256:{HEX}", "mirror.example.com:5000/ocp/hello-world:latest"),
    ("localhost:5000/x:1", "mirror.example.com:5000/ocp/x:1"),
    ("docker.io/hello-world:latest", "mirror.example.com:5000/ocp/hello-world:latest"),
    ("docker.io/library/hello-world:latest", "mirror.example.com:5000/ocp/library/hello-world:latest"),
])
def test_short_names_land_where_oc_mirror_puts_them(name, expected):
    assert dest_of(name) == expected


def test_target_repo_replaces_the_path_of_a_short_name_too():
    assert dest_of("ubi8/ubi:latest", target_repo="ubi8/ubi") == "mirror.example.com:5000/ocp/ubi8/ubi:latest"


def test_max_nested_paths_folds_the_path_oc_mirror_gives_a_short_name():
    # a/b/c/d is pulled from docker.io/a/b/c/d; oc-mirror mirrors it as b/c/d, under DEST's namespace
    assert dest_of("a/b/c/d:1", max_nested_paths=3) == "mirror.example.com:5000/ocp/b/c-d:1"


def test_digest_only_image_gets_the_sha256_tag():
    # oc-mirror's own test case (internal/pkg/additional/local_stored_collector_test.go)
    assert dest_of(f"sometest.registry.com/testns/test@sha256:{HEX}") == \
        f"mirror.example.com:5000/ocp/testns/test:sha256-{HEX}"


def test_tag_and_digest_is_pushed_by_tag():
    assert dest_of(f"quay.io/ns/img:1.0@sha256:{HEX}") == "mirror.example.com:5000/ocp/ns/img:1.0"


def test_target_repo_and_target_tag_replace_path_and_tag():
    assert dest_of("quay.io/ns/img:1.0", target_repo="custom/name", target_tag="v9") == \
        "mirror.example.com:5000/ocp/custom/name:v9"
    assert dest_of(f"quay.io/ns/img@sha256:{HEX}", target_tag="pinned") == "mirror.example.com:5000/ocp/ns/img:pinned"


def test_destination_without_namespace():
    ref = registry_reference(RegistryDestination("reg:5000"), mirror_name(ImageRef.parse("quay.io/ns/img:1")))
    assert str(ref) == "reg:5000/ns/img:1"


PATH = "ocpbugs-11922/mirror-release/gitlab-org/ci-cd/gitlab-runner-ubi-images/gitlab-runner-helper-ocp"


@pytest.mark.parametrize("limit, expected", [
    # oc-mirror's internal/pkg/image/image_test.go cases
    (0, PATH),
    (2, "ocpbugs-11922/mirror-release-gitlab-org-ci-cd-gitlab-runner-ubi-images-gitlab-runner-helper-ocp"),
    (3, "ocpbugs-11922/mirror-release/gitlab-org-ci-cd-gitlab-runner-ubi-images-gitlab-runner-helper-ocp"),
    (4, "ocpbugs-11922/mirror-release/gitlab-org/ci-cd-gitlab-runner-ubi-images-gitlab-runner-helper-ocp"),
    (6, PATH),
])
def test_max_nested_paths(limit, expected):
    assert limit_nested_paths(PATH, limit) == expected


def test_max_nested_paths_counts_the_destination_namespace():
    destination = RegistryDestination("myregistry.mydomain", "ocpbugs-11922/mirror-release")
    name = mirror_name(ImageRef.parse(f"quay.io/gitlab-org/ci-cd/gitlab-runner-ubi-images/"
                                      f"gitlab-runner-helper-ocp@sha256:{HEX}"))
    ref = registry_reference(destination, name, max_nested_paths=3)
    assert ref.path == "ocpbugs-11922/mirror-release/gitlab-org-ci-cd-gitlab-runner-ubi-images-gitlab-runner-helper-ocp"


def test_parses_destinations():
    assert parse_destination("docker://reg.example.com:5000/a/b") == RegistryDestination("reg.example.com:5000", "a/b")
    assert parse_destination("docker://reg:5000/") == RegistryDestination("reg:5000", "")
    assert parse_destination("file:///data/mirror") == DiskDestination(Path("/data/mirror"))


@pytest.mark.parametrize("text, message", [
    ("reg.example.com/ocp", "must start with docker:// .* or file://"),
    ("docker://", "not a registry host"),
    ("docker://reg:5000/UPPER", "invalid repository path component"),
    ("file://", "needs a directory"),
])
def test_rejects_bad_destinations(text, message):
    with pytest.raises(SkomirrorError, match=message):
        parse_destination(text)
