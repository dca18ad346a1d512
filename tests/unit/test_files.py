"""replace_file: the file whole or not at all, owner-only by default, and no temporaries left to pile up."""

import os
import stat

from skomirror.files import UMASK_DECIDES, replace_file


def test_a_temporary_a_crash_left_is_reused_and_nothing_else_is_left(tmp_path):
    target = tmp_path / "results.json"
    (tmp_path / ".results.json.tmp").write_text("half of an earlier write")
    replace_file(target, "{}\n")
    replace_file(target, b"[]\n", durable=True)
    assert target.read_bytes() == b"[]\n" and sorted(os.listdir(tmp_path)) == ["results.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_umask_decides_where_asked(tmp_path):
    old = os.umask(0o022)
    try:
        path = replace_file(tmp_path / "index.json", "{}", mode=UMASK_DECIDES)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
