"""The survey's HTTP manifest reader against real registries (plain, htpasswd, TLS)."""

import pytest

from skomirror.registry.client import RegistryClient, Unsupported
from skomirror.skopeo.command import RegistryAccess
from testkit.images import simple_image
from testkit.registry import Credentials, make_tls_files, write_authfile

INSECURE = RegistryAccess(tls_verify=False)


def test_plain_http_registry_reads_digests_and_absent_images(source):
    digest = source.push("c/app", "1", simple_image("client"))
    client = RegistryClient(INSECURE, INSECURE, None)
    assert client.manifest(source.host, "c/app", "1", on_destination=True, head=True).digest == digest
    answer = client.manifest(source.host, "c/app", digest, on_destination=False)
    assert answer.digest == digest and answer.body.startswith(b"{")
    assert client.manifest(source.host, "c/missing", "1", on_destination=True, head=True).digest is None


def test_htpasswd_registry_with_an_authfile_and_without(tmp_path, registries):
    registry = registries("private", credentials=Credentials("reader", "pa55-word"))
    digest = registry.push("c/app", "1", simple_image("private"))
    authfile = write_authfile(tmp_path / "auth.json", {registry.host: registry.credentials})
    assert RegistryClient(INSECURE, INSECURE, authfile).manifest(registry.host, "c/app", "1", True, True).digest == \
        digest
    with pytest.raises(Unsupported, match="asks for credentials"):
        RegistryClient(INSECURE, INSECURE, None).manifest(registry.host, "c/app", "1", True, True)


def test_tls_registry_needs_its_ca_or_no_verification(tmp_path, registries):
    tls = make_tls_files(tmp_path / "tls")
    registry = registries("tls", tls=tls)
    digest = registry.push("c/app", "1", simple_image("tls"))
    with pytest.raises(Unsupported):
        RegistryClient(RegistryAccess(), RegistryAccess(), None).manifest(registry.host, "c/app", "1", True, True)
    with_ca = RegistryClient(RegistryAccess(), RegistryAccess(cert_dir=tls.ca_dir), None)
    assert with_ca.manifest(registry.host, "c/app", "1", True, True).digest == digest
    assert RegistryClient(INSECURE, INSECURE, None).manifest(registry.host, "c/app", "1", True, True).digest == digest


def test_what_a_destination_holds_is_asked_per_repository_and_blob(tmp_path, registries):
    registry = registries("holds", credentials=Credentials("writer", "s3cret-pw"))
    image = simple_image("held")
    registry.push("c/app", "1", image)
    authfile = write_authfile(tmp_path / "auth.json", {registry.host: registry.credentials})
    client = RegistryClient(INSECURE, INSECURE, authfile)
    assert client.repository_present(registry.host, "c/app")
    assert not client.repository_present(registry.host, "c/other")
    assert all(client.blob_present(registry.host, "c/app", blob.digest) for blob in image.blobs)
    assert not client.blob_present(registry.host, "c/app", simple_image("elsewhere").config.digest)
    with pytest.raises(Unsupported, match="asks for credentials"):
        RegistryClient(INSECURE, INSECURE, None).blob_present(registry.host, "c/app", image.config.digest)
