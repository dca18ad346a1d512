"""A destination served over TLS with a self-signed CA."""

from testkit.images import simple_image
from testkit.registry import make_tls_files
from tests.integration.conftest import skomirror, write_isc


def test_tls_destination_needs_its_ca(tmp_path, registries, source):
    tls = make_tls_files(tmp_path / "tls")
    destination = registries("destination", tls=tls)
    digest = source.push("tls/app", "1", simple_image("tls"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/tls/app:1"])
    target = f"docker://{destination.host}/mirror"

    without_ca = skomirror("--src-tls-verify=false", str(isc), target, cwd=tmp_path, insecure=False)
    assert without_ca.returncode == 1
    assert "cannot use the destination" in without_ca.stderr
    assert "TLS certificate not trusted" in without_ca.stderr and "x509" in without_ca.stderr
    assert destination.catalog() == []

    with_ca = skomirror("--src-tls-verify=false", "--dest-cert-dir", str(tls.ca_dir), str(isc), target,
                        "--workspace", "ws-ca", cwd=tmp_path, insecure=False)
    assert with_ca.returncode == 0, with_ca.stderr
    assert destination.manifest_digest("mirror/tls/app", "1") == digest
    assert "TLS verification is off for the destination" not in with_ca.stderr

    unverified = skomirror("--src-tls-verify=false", "--dest-tls-verify=false", str(isc), f"{target}2",
                           "--workspace", "ws-insecure", cwd=tmp_path, insecure=False)
    assert unverified.returncode == 0, unverified.stderr
    assert "warning: TLS verification is off for the destination (--dest-tls-verify=false)" in unverified.stderr
    assert destination.manifest_digest("mirror2/tls/app", "1") == digest
