"""The survey follows the host configuration skopeo follows: registries.conf, auth files, learned schemes.

Every test points HOME (and XDG_RUNTIME_DIR) at its tmp_path, so nothing of the
shared machine's own configuration is read, and nothing is written outside it.
Made-up registry names end in `.invalid` and are always rewritten by the test's
registries.conf: nothing ever looks them up.
"""

import time
from pathlib import Path
from typing import Dict, List

from skomirror.registry.client import CONNECT_TIMEOUT, LEARNED
from testkit.images import simple_image
from testkit.registry import Credentials, make_tls_files, write_authfile
from testkit.tlssilent import TlsSilentProxy
from tests.integration.conftest import results, skomirror, skopeo_digest, statuses, write_isc

MADE_UP = "skomirror-survey-test.invalid"


def isolated(tmp_path: Path, **more: str) -> Dict[str, str]:
    """An environment with its own HOME and XDG_RUNTIME_DIR (empty until a test fills them)."""
    (tmp_path / "run").mkdir(exist_ok=True)
    return dict(HOME=str(tmp_path / "home"), XDG_RUNTIME_DIR=str(tmp_path / "run"), **more)


def run_logs(tmp_path: Path, workspace: Path) -> List[str]:
    return [(tmp_path / image["log"]).read_text() for image in results(workspace)["images"]]


def assert_surveyed_over_http_only(logs: List[str]) -> None:
    assert logs and all("over http" in log for log in logs)
    assert not [log for log in logs if "asking skopeo" in log], "an image fell back to skopeo inspect"


def test_containers_registries_conf_sends_survey_and_copies_to_the_mirror_and_a_rerun_skips(
        tmp_path, registries, destination):
    upstream, mirror, rewritten = registries("upstream"), registries("mirror"), registries("rewritten")
    upstream.push("ns/app", "1", simple_image("upstream copy"))  # reachable, and not what the mirror holds
    mirrored = mirror.push("ns/app", "1", simple_image("mirror copy"))
    renamed = rewritten.push("made/app", "1", simple_image("made-up name"))
    conf = tmp_path / "registries.conf"
    conf.write_text(f"""
[[registry]]
prefix = "{MADE_UP}/made"
location = "{rewritten.host}/made"

[[registry]]
location = "{upstream.host}"
[[registry.mirror]]
location = "{mirror.host}"
""")
    isc = write_isc(tmp_path / "isc.yaml", [f"{MADE_UP}/made/app:1", f"{upstream.host}/ns/app:1"])
    environ = isolated(tmp_path, CONTAINERS_REGISTRIES_CONF=str(conf))
    workspace = tmp_path / "skomirror-workspace"

    first = skomirror(str(isc), f"docker://{destination.host}/out", cwd=tmp_path, env=environ)
    assert first.returncode == 0, first.stderr + first.stdout
    assert skopeo_digest(f"{destination.host}/out/made/app:1") == renamed
    assert skopeo_digest(f"{destination.host}/out/ns/app:1") == mirrored  # the copy went to the mirror
    logs = run_logs(tmp_path, workspace)
    assert_surveyed_over_http_only(logs)
    assert any(f"from {mirror.host}/ns/app, as registries.conf says" in log for log in logs)
    assert any(f"from {rewritten.host}/made/app, as registries.conf says" in log for log in logs)
    assert all(image["digest"] in (renamed, mirrored) for image in results(workspace)["images"])

    second = skomirror(str(isc), f"docker://{destination.host}/out", cwd=tmp_path, env=environ)
    assert second.returncode == 0, second.stderr
    assert set(statuses(workspace).values()) == {"skipped"}
    rerun_logs = run_logs(tmp_path, workspace)
    assert_surveyed_over_http_only(rerun_logs)
    assert not any("copy attempt" in log for log in rerun_logs)


def test_a_drop_in_under_home_maps_a_made_up_registry_to_a_local_one(tmp_path, registries, destination):
    local = registries("local")
    digests = {f"team/app{n}": local.push(f"team/app{n}", "1", simple_image(f"drop-in {n}")) for n in range(3)}
    environ = isolated(tmp_path)
    drop_in = Path(environ["HOME"]) / ".config/containers/registries.conf.d/50-skomirror-test.conf"
    drop_in.parent.mkdir(parents=True)
    drop_in.write_text(f'[[registry]]\nprefix = "{MADE_UP}"\nlocation = "{local.host}"\n')
    isc = write_isc(tmp_path / "isc.yaml", [f"{MADE_UP}/{repository}:1" for repository in digests])
    workspace = tmp_path / "skomirror-workspace"
    try:
        first = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path, env=environ)
        assert first.returncode == 0, first.stderr + first.stdout
        for repository, digest in digests.items():
            assert skopeo_digest(f"{destination.host}/{repository}:1") == digest
        assert_surveyed_over_http_only(run_logs(tmp_path, workspace))

        second = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path, env=environ)
        assert second.returncode == 0, second.stderr
        assert set(statuses(workspace).values()) == {"skipped"}
        assert_surveyed_over_http_only(run_logs(tmp_path, workspace))
    finally:
        drop_in.unlink()


def test_credentials_in_the_runtime_auth_file_serve_the_http_survey(tmp_path, registries, destination):
    """As after a plain `podman login`: no --authfile, the credentials in ${XDG_RUNTIME_DIR}/containers/auth.json."""
    source = registries("private", credentials=Credentials("puller", "s3cret-runtime-pw"))
    digests = {f"private/app{n}": source.push(f"private/app{n}", "1", simple_image(f"private {n}")) for n in range(3)}
    environ = isolated(tmp_path)
    write_authfile(Path(environ["XDG_RUNTIME_DIR"]) / "containers/auth.json", {source.host: source.credentials})
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/{repository}:1" for repository in digests])

    result = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path, env=environ)
    assert result.returncode == 0, result.stderr + result.stdout
    for repository, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/{repository}:1") == digest
    assert_surveyed_over_http_only(run_logs(tmp_path, tmp_path / "skomirror-workspace"))
    assert "s3cret-runtime-pw" not in result.stdout + result.stderr


def test_a_ca_in_the_users_certs_d_serves_survey_and_copies_without_flags(tmp_path, registries, destination):
    tls = make_tls_files(tmp_path / "tls")
    source = registries("tls-source", tls=tls)
    digest = source.push("tls/app", "1", simple_image("certs.d"))
    environ = isolated(tmp_path)
    certs = Path(environ["HOME"]) / ".config/containers/certs.d" / source.host
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes(tls.ca_cert.read_bytes())
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/tls/app:1"])
    result = skomirror("--dest-tls-verify=false", str(isc), f"docker://{destination.host}", cwd=tmp_path,
                       env=environ, insecure=False)  # the source is verified, against the CA in certs.d only
    assert result.returncode == 0, result.stderr + result.stdout
    assert skopeo_digest(f"{destination.host}/tls/app:1") == digest
    assert_surveyed_over_http_only(run_logs(tmp_path, tmp_path / "skomirror-workspace"))


def test_plain_http_behind_a_silent_tls_port_is_waited_for_once(tmp_path, registries, destination):
    source = registries("plain")
    count = 6
    for n in range(count):
        source.push(f"quiet/app{n}", "1", simple_image(f"quiet {n}"))
    with TlsSilentProxy(source.port) as proxy:
        isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/quiet/app{n}:1" for n in range(count)])
        started = time.monotonic()
        result = skomirror(str(isc), f"docker://{destination.host}", "--dry-run", cwd=tmp_path,
                           env=isolated(tmp_path))
        elapsed = time.monotonic() - started
        hellos, quiet_host = proxy.hellos, proxy.host
    assert result.returncode == 0, result.stderr + result.stdout
    logs = [log.read_text() for log in (tmp_path / "skomirror-workspace/logs").rglob("*.log")]  # a dry run
    assert len(logs) == count  # writes no results.json
    assert_surveyed_over_http_only(logs)
    learned = [line for log in logs for line in log.splitlines() if LEARNED in line and quiet_host in line]
    assert len(learned) == 1 and f"within {CONNECT_TIMEOUT:g}s" in learned[0], learned
    assert hellos == 1  # one TLS attempt for the run, not two per image
    assert elapsed < 60, f"the survey took {elapsed:.0f}s: it waited more than once"  # before: 2 x 60 s per image
