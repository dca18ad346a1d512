"""examples/study-v1alpha2.yaml loads as it is, without a warning, and reads as oc-mirror v2 reads it."""

from pathlib import Path

from skomirror.collectors import additional
from skomirror.config import load_config
from skomirror.naming import mirror_name

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "study-v1alpha2.yaml"


def test_the_study_example_loads_and_names_its_images_as_oc_mirror_does():
    config = load_config(EXAMPLE)
    assert list(config.warnings) == []
    platform = config.mirror.platform
    assert platform.graph is True
    assert [(c.name, c.min_version, c.max_version) for c in platform.channels] == \
        [("stable-4.15", "4.15.17", "4.15.17")]
    (operator,) = config.mirror.operators
    assert operator.catalog == "registry.redhat.io/redhat/redhat-operator-index:v4.15"
    assert [package.name for package in operator.packages] == \
        ["aws-load-balancer-operator", "3scale-operator", "node-observability-operator"]
    images = additional.collect(config.mirror.additional_images)
    assert [(image.source.pull_spec, str(mirror_name(image.source))) for image in images] == [
        ("registry.redhat.io/ubi8/ubi:latest", "ubi8/ubi:latest"),
        ("registry.redhat.io/ubi9/ubi@sha256:20f695d2a91352d4eaa25107535126727b5945bff38ed36a3e59590f495046f0",
         "ubi9/ubi:sha256-20f695d2a91352d4eaa25107535126727b5945bff38ed36a3e59590f495046f0"),
        ("docker.io/library/hello-world:latest", "hello-world:latest"),
    ]
