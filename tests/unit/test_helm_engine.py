"""Which engine renders, and the helm CLI's command lines and errors (its real runs are integration tests)."""

import json

import pytest

from skomirror.errors import SkomirrorError
from skomirror.helm import choose
from skomirror.helm.choose import ENGINE_VARIABLE, INSTALL_HINT, find_engine
from skomirror.helm.cli_engine import HelmCli
from skomirror.helm.engine import HelmEngineError

HELM = "/opt/fake/helm"


class FakeSdk:
    description = "helm-python-sdk (fake)"


@pytest.fixture
def machine(monkeypatch):
    """set(helm_on_path, sdk_installed): what find_engine sees."""

    def set_up(cli: bool, sdk: bool) -> None:
        monkeypatch.setattr(choose.shutil, "which", lambda name: HELM if cli and name == "helm" else None)
        monkeypatch.setattr(choose.HelmCli, "probe", classmethod(lambda cls, binary: cls(binary, "v3.15.2")))
        monkeypatch.setattr(choose.HelmSdk, "load", classmethod(lambda cls: FakeSdk() if sdk else None))
        monkeypatch.delenv(ENGINE_VARIABLE, raising=False)
    return set_up


@pytest.mark.parametrize("cli, sdk, choice, expected", [
    (True, True, None, "cli"),  # the bastion's own helm first
    (False, True, None, "sdk"),
    (True, False, None, "cli"),
    (True, True, "sdk", "sdk"),
    (True, True, "cli", "cli"),
    (False, False, None, "no Helm engine is installed"),
    (False, True, "cli", "the helm CLI is not on PATH"),
    (True, False, "sdk", "helm-python-sdk is not installed"),
])
def test_the_helm_cli_is_preferred_the_variable_chooses_and_none_is_one_line(machine, monkeypatch, cli, sdk, choice,
                                                                             expected):
    machine(cli, sdk)
    if choice:
        monkeypatch.setenv(ENGINE_VARIABLE, choice)
    if expected in ("cli", "sdk"):
        engine = find_engine()
        assert (isinstance(engine, HelmCli), isinstance(engine, FakeSdk)) == (expected == "cli", expected == "sdk")
        return
    with pytest.raises(SkomirrorError) as raised:
        find_engine()
    assert str(raised.value) == f"helm charts need Helm's template engine, and {expected}: {INSTALL_HINT}"
    assert "pip install 'skomirror[helm]'" in INSTALL_HINT and "\n" not in str(raised.value)


def test_an_unknown_choice_is_refused(machine, monkeypatch):
    machine(True, True)
    monkeypatch.setenv(ENGINE_VARIABLE, "go")
    with pytest.raises(SkomirrorError, match="SKOMIRROR_HELM_ENGINE='go': expected cli or sdk"):
        find_engine()


def test_the_cli_renders_as_helm_template_with_values_in_a_file(fake_process, tmp_path):
    fake_process.register([HELM, "version", "--short"], stdout="v3.15.2+g1a500d5\n")
    engine = HelmCli.probe(HELM)
    assert engine.description == f"helm CLI v3.15.2 ({HELM})"
    values = {"image": {"tag": "2.0"}, "password": "not on the command line"}
    values_file = tmp_path / "work" / "values.json"
    command = [HELM, "template", "release-name", str(tmp_path / "chart.tgz"), "--namespace", "default",
               "--include-crds", "--values", str(values_file)]
    fake_process.register(command, stdout="---\n# Source: x/templates/a.yaml\nkind: Pod\n")
    assert engine.render(tmp_path / "chart.tgz", values, tmp_path / "work") == [
        "---\n# Source: x/templates/a.yaml\nkind: Pod\n"]
    assert json.loads(values_file.read_text()) == values
    assert all("not on the command line" not in " ".join(call) for call in fake_process.calls)


def test_a_helm_error_is_one_line_in_helms_words(fake_process, tmp_path):
    engine = HelmCli(HELM, "v3.15.2")
    fake_process.register([HELM, "template", fake_process.any()], returncode=1,
                          stderr="Error: execution error at (x/templates/a.yaml:3:4):\n  image.tag is required\n")
    with pytest.raises(HelmEngineError) as raised:
        engine.render(tmp_path / "chart.tgz", {}, tmp_path / "work")
    assert str(raised.value) == "helm template: execution error at (x/templates/a.yaml:3:4): image.tag is required"


def test_the_cli_packs_a_chart_directory(fake_process, tmp_path):
    engine = HelmCli(HELM, "v3.15.2")
    destination = tmp_path / "out"

    def package(process):
        (destination / "web-1.0.0.tgz").write_bytes(b"archive")

    fake_process.register([HELM, "package", str(tmp_path / "web"), "--destination", str(destination)],
                          callback=package, stdout="Successfully packaged chart\n")
    assert engine.package(tmp_path / "web", destination) == destination / "web-1.0.0.tgz"


def test_a_helm_that_does_not_run_is_named(fake_process):
    fake_process.register([HELM, "version", "--short"], returncode=1, stderr="Error: unknown flag: --short\n")
    with pytest.raises(SkomirrorError, match=f"{HELM} version --short failed: unknown flag: --short"):
        HelmCli.probe(HELM)
