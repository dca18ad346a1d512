import pytest

from skomirror.collectors.releases import ReleaseContext, _signature
from skomirror.release.cincinnati import ReleaseCollectionError
from skomirror.release.signatures import load_signatures, signature_configmap
from skomirror.store import Store
from testkit.updateservice import UpdateServiceStub

DIGEST = "sha256:" + "ab" * 32


def context(tmp_path, url, require=False, warnings=None):
    return ReleaseContext(Store(tmp_path), lambda images: {}, tmp_path / "signatures", tmp_path / "graphs",
                          signature_url=url, require_signatures=require,
                          warn=warnings.append if warnings is not None else (lambda message: None))


def test_a_fetched_signature_is_kept_and_becomes_configmap_binary_data(tmp_path):
    with UpdateServiceStub(signatures={DIGEST: b"\x89PGP"}) as stub:
        _signature(DIGEST, context(tmp_path, f"{stub.url}/signatures"))
    assert stub.requests == [f"/signatures/sha256={'ab' * 32}/signature-1"]
    found = load_signatures(tmp_path / "signatures", [DIGEST])
    configmap = signature_configmap(found, {})
    assert configmap["metadata"]["labels"] == {"release.openshift.io/verification-signatures": ""}
    assert configmap["binaryData"] == {f"sha256-{'ab' * 32}-1": "iVBHUA=="}


def test_a_missing_signature_is_a_warning_unless_required(tmp_path):
    with UpdateServiceStub() as stub:
        warnings = []
        _signature(DIGEST, context(tmp_path, f"{stub.url}/signatures", warnings=warnings))
        assert "no signature for release" in warnings[0]
        with pytest.raises(ReleaseCollectionError, match="--require-signatures"):
            _signature(DIGEST, context(tmp_path, f"{stub.url}/signatures", require=True))
