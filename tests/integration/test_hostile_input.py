"""Hostile input in real runs: a backtracking blockedImages pattern."""

import time

from testkit.images import simple_image
from tests.integration.conftest import skomirror, skopeo_digest, write_isc


def test_a_backtracking_blocked_images_pattern_is_applied_in_linear_time(tmp_path, source, destination):
    """`^(.*)*-debug$` never matches a tagged name and so is the slowest case for Python's re: minutes on these
    40-odd characters. Here the run is over in seconds (the timeout is the guard)."""
    kept = source.push("team/abcdefghijklmnopqrstuvwxy", "1", simple_image("kept"))
    source.push("team/app-debug", "1", simple_image("debug"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/team/abcdefghijklmnopqrstuvwxy:1",
                                            f"{source.host}/team/app-debug:1"],
                    blocked=[r"^(.*)*-debug$", r"^(.*)*-debug:1$"])
    started = time.monotonic()
    result = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 image excluded by blockedImages" in result.stdout
    assert skopeo_digest(f"{destination.host}/team/abcdefghijklmnopqrstuvwxy:1") == kept
    assert skopeo_digest(f"{destination.host}/team/app-debug:1") is None
    print(f"run took {time.monotonic() - started:.1f}s")
