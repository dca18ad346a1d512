"""Credentials found where skopeo finds them, and left to skopeo where this reader cannot read them."""

import base64
import json
import os
from pathlib import Path

import pytest

from skomirror.registry.auth import AuthFiles, AuthPath, CredentialsElsewhere, auth_paths


def entry(user: str, password: str) -> dict:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def write(path: Path, document) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def test_the_files_are_searched_in_skopeos_order(tmp_path):
    home = tmp_path / "home"
    run = tmp_path / "run"
    run.mkdir()
    assert [p.path for p in auth_paths(None, {"XDG_RUNTIME_DIR": str(run)}, home)] == [
        run / "containers/auth.json", home / ".config/containers/auth.json", home / ".docker/config.json",
        home / ".dockercfg"]
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "DOCKER_CONFIG": str(tmp_path / "dock")}
    assert [p.path for p in auth_paths(None, environ, home)] == [
        Path(f"/run/containers/{os.getuid()}/auth.json"), tmp_path / "cfg/containers/auth.json",
        tmp_path / "dock/config.json", home / ".dockercfg"]
    missing_runtime = {"XDG_RUNTIME_DIR": str(tmp_path / "gone")}  # skopeo warns and goes on without it
    assert auth_paths(None, missing_runtime, home)[0].path == home / ".config/containers/auth.json"
    assert auth_paths(tmp_path / "given.json", {"XDG_RUNTIME_DIR": str(run)}, home) == [
        AuthPath(tmp_path / "given.json")]  # --authfile (or REGISTRY_AUTH_FILE) alone


def test_the_first_file_with_a_key_wins_and_the_most_specific_key_in_it(tmp_path):
    first = write(tmp_path / "a.json", {"auths": {"reg.io/ns/app": entry("app", "a"), "reg.io/ns": entry("ns", "n"),
                                                  "empty.io": {}}})
    second = write(tmp_path / "b.json", {"auths": {"reg.io": entry("host", "h"), "empty.io": entry("e", "2")}})
    files = AuthFiles([AuthPath(first), AuthPath(tmp_path / "missing.json"), AuthPath(second)])
    assert files.find("reg.io/ns/app") == ("app", "a")
    assert files.find("reg.io/ns/other") == ("ns", "n")
    assert files.find("reg.io/else/x") == ("host", "h")
    assert files.find("empty.io/x") == ("e", "2")  # an empty entry (a helper's marker) moves on to the next file
    assert files.find("other.io/x") is None


def test_old_url_keys_and_the_legacy_dockercfg_are_matched_by_host(tmp_path):
    docker = write(tmp_path / "config.json", {"auths": {"https://index.docker.io/v1/": entry("hub", "x"),
                                                        "http://old.io/v2/": entry("old", "y")}})
    legacy = write(tmp_path / ".dockercfg", {"legacy.io": entry("leg", "z")})
    files = AuthFiles([AuthPath(docker), AuthPath(legacy, legacy=True)])
    assert files.find("docker.io/library/busybox") == ("hub", "x")
    assert files.find("old.io/ns/app") == ("old", "y")
    assert files.find("legacy.io/ns/app") == ("leg", "z")


@pytest.mark.parametrize("document, helpers", [
    ({"credHelpers": {"reg.io": "ecr-login"}, "auths": {"reg.io": entry("u", "s3cret-pw")}}, None),
    ({"auths": {"reg.io": {"auth": "", "identitytoken": "t0ken-s3cret"}}}, None),
    ({"auths": {"reg.io": {"auth": "not base64!"}}}, None),
    ({"auths": {}}, ["secretservice", "containers-auth.json"]),
    ("[not an object]", None),
])
def test_credentials_kept_where_this_reader_cannot_look_are_left_to_skopeo(tmp_path, document, helpers):
    path = tmp_path / "auth.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(CredentialsElsewhere) as error:
        AuthFiles([AuthPath(path)], helpers).find("reg.io/ns/app")
    assert "s3cret" not in str(error.value) and str(path) in str(error.value) or helpers


def test_auth_files_are_consulted_before_a_helper_listed_after_them(tmp_path):
    path = write(tmp_path / "auth.json", {"auths": {"reg.io": entry("u", "p")}})
    files = AuthFiles([AuthPath(path)], ["containers-auth.json", "secretservice"])
    assert files.find("reg.io/x") == ("u", "p")
    with pytest.raises(CredentialsElsewhere, match="secretservice"):
        files.find("other.io/x")
