"""A bug in skomirror mid-run: one line naming the crash log, every child stopped, results kept, exit 1."""

import os
import subprocess
import sys

from testkit.images import simple_image
from testkit.wanproxy import WanProxy
from tests.integration.conftest import PROJECT, results, skopeo_processes_mentioning, write_isc

# The real CLI with one bug planted: the byte meter breaks when the first copy finishes, while others run.
PLANTED_BUG = """
import sys
from skomirror.execution import meter

def broken(self, record):
    raise RuntimeError("planted bug in the byte meter")

meter.ByteMeter.finished = broken
from skomirror.cli import main
sys.argv[0] = "skomirror"
main(["run", "--src-tls-verify=false", "--dest-tls-verify=false"] + sys.argv[1:])
"""


def test_an_unexpected_exception_is_one_line_a_crash_log_and_no_child_left(tmp_path, source, destination):
    for i in range(5):
        source.push(f"crash/app{i}", "1", simple_image(f"crash{i}", (400_000 + 300_000 * i,)))
    with WanProxy(source.port, latency=0.01, connection_rate=1.0e6, total_rate=2.0e6) as proxy:
        isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/crash/app{i}:1" for i in range(5)])
        workspace = tmp_path / "ws"
        run = subprocess.run([sys.executable, "-c", PLANTED_BUG, "--parallel-images", "3", "--workspace",
                              str(workspace), str(isc), f"docker://{destination.host}/mirror"],
                             cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(PROJECT)), capture_output=True,
                             text=True, timeout=300)
        assert skopeo_processes_mentioning(str(tmp_path)) == []
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    errors = [line for line in run.stderr.splitlines() if line.startswith("skomirror: error:")]
    assert len(errors) == 1, run.stderr
    assert "internal error (RuntimeError: planted bug in the byte meter)" in errors[0]
    logs = list(workspace.glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in errors[0]
    text = logs[0].read_text()
    assert "Traceback" in text and "planted bug in the byte meter" in text
    assert text.startswith("skomirror 0.")
    document = results(workspace)
    assert len(document["images"]) == 5
    assert any(image["status"] == "copied" for image in document["images"])
    assert any("crashed" in warning for warning in document["run"]["warnings"])
