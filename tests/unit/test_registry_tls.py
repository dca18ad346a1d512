"""certs.d found and read as skopeo finds and reads it."""

import ssl

import pytest

from skomirror.registry import tls
from skomirror.registry.tls import TlsSetupError, cert_dir_for, tls_context


def test_cert_dir_is_the_explicit_one_else_the_first_certs_d_that_exists(tmp_path, monkeypatch):
    home, etc_containers, etc_docker = tmp_path / "home", tmp_path / "containers", tmp_path / "docker"
    monkeypatch.setattr(tls, "SYSTEM_CERTS", (etc_containers, etc_docker))
    assert cert_dir_for("reg.io:5000", None, home) is None
    (etc_docker / "reg.io:5000").mkdir(parents=True)
    assert cert_dir_for("reg.io:5000", None, home) == etc_docker / "reg.io:5000"
    (etc_containers / "reg.io:5000").mkdir(parents=True)
    assert cert_dir_for("reg.io:5000", None, home) == etc_containers / "reg.io:5000"
    (home / ".config/containers/certs.d/reg.io:5000").mkdir(parents=True)
    assert cert_dir_for("reg.io:5000", None, home) == home / ".config/containers/certs.d/reg.io:5000"
    assert cert_dir_for("reg.io", None, home) is None  # per host:port
    assert cert_dir_for("reg.io:5000", tmp_path / "given", home) == tmp_path / "given"


@pytest.mark.parametrize("names, why", [(["client.cert"], "missing key client.key"),
                                        (["client.key"], "missing client certificate client.cert"),
                                        (["ca.crt"], "ca.crt")])
def test_a_directory_skopeo_would_refuse_is_refused(tmp_path, names, why):
    for name in names:
        (tmp_path / name).write_text("not a certificate")
    with pytest.raises(TlsSetupError, match=why):
        tls_context(tmp_path, verify=True)


def test_without_verification_nothing_is_checked():
    context = tls_context(None, verify=False)
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
