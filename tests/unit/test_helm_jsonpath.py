"""imagePaths: Kubernetes JSONPath as client-go evaluates it for oc-mirror (missing keys allowed)."""

import pytest

from skomirror.helm.images import DEFAULT_IMAGE_PATHS, ManifestProblem, find_images
from skomirror.helm.jsonpath import JsonPathError, parse

POD = {"kind": "Pod", "spec": {
    "initContainers": [{"name": "init", "image": "quay.io/a/init:1"}],
    "containers": [{"name": "web", "image": "quay.io/a/web:1", "env": [
        {"name": "LOG_LEVEL", "value": "info"}, {"name": "RELATED_IMAGE_DB", "value": "quay.io/a/db:2"}]},
        {"name": "proxy", "image": "quay.io/a/proxy:1", "ports": [{"containerPort": 80}]}]},
    "metadata": {"annotations": {"images": "quay.io/a/x:1 quay.io/a/y:1"}}}


@pytest.mark.parametrize("template, expected", [
    ("{.spec.containers[*].image}", ["quay.io/a/web:1", "quay.io/a/proxy:1"]),
    ("{.spec.containers[0].image}", ["quay.io/a/web:1"]),
    ("{.spec.containers[-1].image}", ["quay.io/a/proxy:1"]),
    ("{.spec.containers[0:1].name}", ["web"]),
    ("{.spec.containers[*].env[*].value}", ["info", "quay.io/a/db:2"]),
    ("{.spec.containers[*].env[?(@.name == 'RELATED_IMAGE_DB')].value}", ["quay.io/a/db:2"]),
    ("{.spec.containers[*].env[?(@.name != \"LOG_LEVEL\")].value}", ["quay.io/a/db:2"]),
    ("{.spec.containers[*].ports[?(@.containerPort >= 80)].containerPort}", [80]),
    ("{.spec.containers[?(@.ports)].name}", ["proxy"]),
    ("{..image}", ["quay.io/a/init:1", "quay.io/a/web:1", "quay.io/a/proxy:1"]),
    ("{.metadata.annotations['images']}", ["quay.io/a/x:1 quay.io/a/y:1"]),
    ("{$.spec.initContainers[*].image} {.spec.containers[0].image}", ["quay.io/a/init:1", "quay.io/a/web:1"]),
    ("{.spec.template.spec.containers[*].image}", []),  # missing keys find nothing, as AllowMissingKeys
    ("{.spec.containers[7].image}", []),
    ("{.spec.*[0].name}", ["init", "web"]),
])
def test_paths_find_what_client_go_finds(template, expected):
    assert parse(template).find(POD) == expected


@pytest.mark.parametrize("template, problem", [
    (".spec.containers[*].image", "not a JSONPath template"),
    ("image: {.spec.image}", "not a JSONPath template"),
    ("{range .spec.containers[*]}{.image}{end}", "range/end is not supported"),
    ("{spec.containers}", "must start with '.'"),
    ("{.spec.containers[?(@.name =~ /x/)]}", "unsupported filter"),
    ("{.spec.containers[*}", "unclosed '['"),
    ("{.spec.containers[?(@.name == x)].image}", "neither a quoted string nor a number"),
    ("{.spec..}", "'..' must be followed by a field name"),
])
def test_what_is_not_supported_is_refused_with_the_reason(template, problem):
    with pytest.raises(JsonPathError, match=problem.replace("[", r"\[").replace("(", r"\(")):
        parse(template)


def test_default_paths_are_oc_mirrors_and_values_split_on_spaces():
    deployment = ("kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: quay.io/a/web:1\n"
                  "      initContainers:\n      - image: quay.io/a/init:1\n")
    found = find_images(["# Source: x\n" + deployment, "---\n" + __import__("yaml").safe_dump(POD)],
                        ["{.metadata.annotations.images}", "{.spec.containers[*].env[*].value}"])
    assert list(found.images) == ["quay.io/a/init:1", "quay.io/a/web:1", "quay.io/a/proxy:1", "quay.io/a/x:1",
                                  "quay.io/a/y:1", "quay.io/a/db:2"]
    assert list(found.not_images) == ["info"] and "no tag or digest" in found.not_images["info"]
    assert len(DEFAULT_IMAGE_PATHS) == 4


def test_a_rendered_manifest_that_is_not_yaml_names_its_template():
    with pytest.raises(ManifestProblem, match=r"webapp/templates/bad.yaml is not valid YAML"):
        find_images(["# Source: webapp/templates/bad.yaml\nspec: [unclosed\n"])
