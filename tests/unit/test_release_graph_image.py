from types import SimpleNamespace

import pytest

from skomirror.collectors.releases import ReleaseContext, _graph_image
from skomirror.imagebuild import gzip_bytes, tar_bytes
from skomirror.imagefs import member_path
from skomirror.release.cincinnati import ReleaseCollectionError
from skomirror.release.graph_image import graph_files, read_graph_data
from skomirror.store import Store


def test_member_names_are_normalised_alike_and_only_a_leading_slash_is_stripped():
    assert [str(member_path(n)) for n in ("a/b", "./a/b", "/a/b", "a/./b", "..a/b")] == \
        ["a/b", "a/b", "a/b", "a/b", "..a/b"]
    assert [member_path(n) for n in ("", ".", "./", "../a", "a/../../b")] == [None] * 5


def test_graph_files_go_under_the_graph_directory():
    files = graph_files(gzip_bytes(tar_bytes({"./version": b"1\n", "channels/a.yaml": b"x"})), "--graph-data t")
    assert files == {"var/lib/cincinnati-graph-data/version": b"1\n",
                     "var/lib/cincinnati-graph-data/channels/a.yaml": b"x"}


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "a/../../b"])
def test_unsafe_graph_data_names_are_refused(name):
    with pytest.raises(ReleaseCollectionError, match=f"^--graph-data t: refusing member '{name}'"):
        graph_files(gzip_bytes(tar_bytes({name: b"x"})), "--graph-data t")


def test_an_unreadable_graph_data_file_names_the_option(tmp_path):
    with pytest.raises(ReleaseCollectionError, match=f"^--graph-data {tmp_path}/missing.tar.gz: "):
        read_graph_data(str(tmp_path / "missing.tar.gz"))


def test_a_bad_graph_data_tarball_fails_before_the_base_image_is_pulled(tmp_path):
    pulled = []
    (tmp_path / "bad.tar.gz").write_bytes(b"not a tarball")
    context = ReleaseContext(Store(tmp_path), pulled.append, tmp_path / "signatures", tmp_path / "graphs",
                             graph_data=str(tmp_path / "bad.tar.gz"), graph_base_image="reg.io/ubi9/ubi:latest")
    with pytest.raises(ReleaseCollectionError, match=f"^--graph-data {tmp_path}/bad.tar.gz: not a tarball"):
        _graph_image(SimpleNamespace(where="isc.yaml:3"), context)
    assert pulled == []
