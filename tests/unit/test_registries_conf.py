"""registries.conf: the source registries whose manifests only skopeo may read, since it may read them elsewhere."""

import pytest

from skomirror.registry.client import Answer
from skomirror.skopeo.registries_conf import config_files, is_named, named_hosts, read_named_hosts
from skomirror.skopeo.runner import SkopeoRunner

V2_CONF = """
unqualified-search-registries = ["registry.fedoraproject.org", "docker.io"]
# [[registry]]
# prefix = "commented.example.com"

[[registry]]
prefix = "docker.io"
location = "mirror.bastion.local:5000/hub"

[[ registry ]]
location = 'quay.io/openshift-release-dev'
[[registry.mirror]]
location = "mirror.bastion.local:5000/quay"

[[registry]]
prefix = "*.internal.example"
blocked = true
"""
V1_CONF = """
[registries.search]
registries = ['docker.io']
[registries.block]
registries = ["blocked.example.com", 'other.example.com:8443']
"""


def test_every_registry_a_prefix_location_or_v1_list_names_and_nothing_commented():
    assert named_hosts([V2_CONF]) == {"docker.io", "mirror.bastion.local:5000", "quay.io", "*.internal.example"}
    assert named_hosts([V1_CONF]) == {"docker.io", "blocked.example.com", "other.example.com:8443"}
    assert named_hosts(["unqualified-search-registries = ['docker.io']\n[aliases]\n\"ubi\" = \"registry.x/ubi\"\n"]) \
        == frozenset()  # where short names are searched, and aliases, send no reference elsewhere


@pytest.mark.parametrize("registry, named", [
    ("docker.io", True), ("quay.io", True), ("registry.internal.example", True),
    ("registry.internal.example:5000", True), ("internal.example", False), ("registry.redhat.io", False),
])
def test_a_registry_is_named_exactly_or_by_a_wildcard_domain(registry, named):
    assert is_named(registry, named_hosts([V2_CONF])) is named


def test_the_users_and_the_systems_files_and_drop_ins_are_all_read(tmp_path):
    user = tmp_path / ".config" / "containers"
    (user / "registries.conf.d").mkdir(parents=True)
    (user / "registries.conf").write_text('[[registry]]\nprefix = "docker.io"\nlocation = "127.0.0.1:5000"\n')
    (user / "registries.conf.d" / "10-quay.conf").write_text('[[registry]]\nlocation = "quay.io"\n')
    (user / "registries.conf.d" / "notes.txt").write_text('[[registry]]\nlocation = "ignored.example"\n')
    files = config_files(tmp_path)
    assert files[:2] == [user / "registries.conf", user / "registries.conf.d" / "10-quay.conf"]
    assert {"docker.io", "127.0.0.1:5000", "quay.io"} <= read_named_hosts(tmp_path)
    assert "ignored.example" not in read_named_hosts(tmp_path)


def test_a_named_source_registry_is_read_by_skopeo_not_over_http(tmp_path):
    asked = []

    class Client:
        def manifest(self, registry, repository, reference, on_destination, head, absent):
            asked.append((registry, on_destination))
            return Answer("sha256:" + "a" * 64)

    class AskedSkopeo(Exception):
        pass

    class NoSkopeo:
        def inspect_raw_args(self, *args):
            raise AskedSkopeo()

    runner = SkopeoRunner(NoSkopeo(), None, _Settings(), None, Client(), redirectable=frozenset({"docker.io"}))
    with pytest.raises(AskedSkopeo):
        runner.manifest("docker.io/library/hello-world:latest", tmp_path / "log")
    assert asked == []
    assert "docker.io is named in registries.conf; asking skopeo" in (tmp_path / "log").read_text()
    digest = "sha256:" + "a" * 64
    assert runner.manifest_digest("docker.io/library/hello-world:latest", True, tmp_path / "log") == digest
    assert runner.manifest_digest("quay.io/a/b:1", False, tmp_path / "log") == digest
    assert asked == [("docker.io", True), ("quay.io", False)]  # destinations and other sources: over HTTP


class _Settings:
    source = destination = authfile = None
