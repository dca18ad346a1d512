"""report.html, rendered by a real browser (Debian's chromium, headless): it shows the run's images."""

import shutil
import subprocess

from testkit.images import simple_image
from testkit.isc import write_isc
from testkit.wanproxy import WanProxy
from tests.integration.conftest import results, skomirror

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-dev-shm-usage", *args], capture_output=True, text=True, timeout=120)


def test_the_report_shows_every_image_and_the_failure_in_a_browser(tmp_path, source, destination):
    assert CHROMIUM, "chromium is not installed: scripts/test.sh installs it (apt-get install chromium)"
    names = [f"app{i}" for i in range(4)]
    for name in names:
        source.push(f"apps/{name}", "1", simple_image(name, (200_000,)))
    with WanProxy(source.port, latency=0.005, connection_rate=2e6, total_rate=4e6) as proxy:
        images = [f"{proxy.host}/apps/{name}:1" for name in names] + [f"{proxy.host}/apps/missing:1"]
        isc = write_isc(tmp_path / "isc.yaml", images)
        workspace = tmp_path / "ws"
        run = skomirror(str(isc), f"docker://{destination.host}/mirror", "--workspace", str(workspace),
                        cwd=tmp_path)
    assert run.returncode == 8, run.stdout + run.stderr
    report = workspace / "report.html"
    assert report.is_file()
    dom = chromium("--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-500:]
    for image in results(workspace)["images"]:
        assert image["destination"].split("://", 1)[1] in dom.stdout
    assert "image not found" in dom.stdout  # the failure, with its reason
    assert dom.stdout.count("<rect") >= len(names)  # a bar per copy attempt
    screenshot = tmp_path / "report.png"
    shot = chromium(f"--screenshot={screenshot}", "--window-size=1200,1600", report.as_uri())
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr[-500:]
