"""htpasswd registries reached through an auth file; the password never shows."""

import threading
from pathlib import Path

from testkit.images import simple_image
from testkit.registry import Credentials, write_authfile
from tests.integration.conftest import skomirror, skopeo_digest, write_isc

SOURCE_PASSWORD = "s3cr3t-source-Pa55"
DEST_PASSWORD = "s3cr3t-dest-Pa55"


def watch_command_lines(secrets, stop: threading.Event, seen: list) -> None:
    """Read every process's argv until told to stop, recording any that carries a secret."""
    while not stop.is_set():
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmdline.read_bytes()
            except OSError:
                continue
            if b"skopeo" in argv:
                seen.append(argv)
            if any(secret.encode() in argv for secret in secrets):
                seen.append(b"LEAK " + argv)
        stop.wait(0.005)


def test_authfile_reaches_protected_registries_and_no_password_leaks(tmp_path, registries):
    source = registries("source", credentials=Credentials("puller", SOURCE_PASSWORD))
    destination = registries("destination", credentials=Credentials("pusher", DEST_PASSWORD))
    digests = {f"secure/app{i}": source.push(f"secure/app{i}", "1", simple_image(f"secure{i}")) for i in range(4)}
    authfile = write_authfile(tmp_path / "auth" / "auth.json", {source.host: source.credentials,
                                                                destination.host: destination.credentials})
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/{repo}:1" for repo in digests])

    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=watch_command_lines, args=((SOURCE_PASSWORD, DEST_PASSWORD), stop, seen))
    watcher.start()
    try:
        result = skomirror(str(isc), f"docker://{destination.host}", "--authfile", str(authfile), cwd=tmp_path)
    finally:
        stop.set()
        watcher.join()
    assert result.returncode == 0, result.stderr + result.stdout
    for repo, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/{repo}:1", authfile=authfile) == digest

    # this run's own copies: other test processes run skopeo too (scripts/test.sh runs two)
    assert any(b"skopeo" in argv and source.host.encode() in argv for argv in seen), \
        "the watcher never saw a skopeo process of this run"
    assert not [argv for argv in seen if argv.startswith(b"LEAK")]
    for secret in (SOURCE_PASSWORD, DEST_PASSWORD):
        assert secret not in result.stdout + result.stderr
        for path in (tmp_path / "skomirror-workspace").rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
                assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"


def test_wrong_password_stops_before_copying_with_a_clear_error(tmp_path, registries, source):
    destination = registries("destination", credentials=Credentials("pusher", DEST_PASSWORD))
    source.push("open/app", "1", simple_image("open"))
    authfile = write_authfile(tmp_path / "auth.json", {destination.host: Credentials("pusher", "wrong-password")})
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/open/app:1"])
    result = skomirror(str(isc), f"docker://{destination.host}", "--authfile", str(authfile), cwd=tmp_path)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1
    assert f"cannot use the destination docker://{destination.host}: authentication failed" in error_lines[0]
    assert "wrong-password" not in result.stderr + result.stdout
    assert destination.catalog() == []


def test_destination_without_credentials_stops_before_copying(tmp_path, registries, source):
    """No auth file at all: the first destination check is refused and nothing is pushed."""
    destination = registries("destination", credentials=Credentials("pusher", DEST_PASSWORD))
    source.push("open/app", "1", simple_image("open"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/open/app:1"])
    result = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path,
                       env={"HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path)})
    assert result.returncode == 1 and "authentication failed" in result.stderr
    assert destination.catalog() == []
