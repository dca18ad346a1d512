import pytest

from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import BlockedImage, Where
from skomirror.errors import ConfigError
from skomirror.imageref import ImageRef
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.naming import RegistryDestination
from skomirror.plan import make_plan

SOURCE, TARGET = RegistryEndpoint(), RegistryEndpoint(RegistryDestination("mirror:5000", "ocp"))


def image(name: str, kind=ImageKind.ADDITIONAL, line=1, **targets) -> CollectedImage:
    return CollectedImage(ImageRef.parse(name), name, kind, Where("isc.yaml", line, f"item{line}"), **targets)


def test_blocked_images_are_excluded_by_regexp_on_origin_or_destination():
    plan = make_plan([image("quay.io/a/keep:1"), image("quay.io/a/drop:1"), image("quay.io/b/other:1")], SOURCE, TARGET,
                     [BlockedImage("drop"), BlockedImage(r"^mirror:5000/ocp/b/")])
    assert [p.destination for p in plan.images] == ["mirror:5000/ocp/a/keep:1"]
    assert [entry.image.origin for entry in plan.blocked] == ["quay.io/a/drop:1", "quay.io/b/other:1"]


def test_duplicates_are_removed():
    plan = make_plan([image("quay.io/a/x:1"), image("quay.io/a/x:1", line=2), image("quay.io/a/y:1")], SOURCE, TARGET)
    assert [p.origin for p in plan.images] == ["quay.io/a/x:1", "quay.io/a/y:1"]
    assert plan.duplicates == 1


def test_two_sources_for_one_destination_is_an_error_naming_both():
    with pytest.raises(ConfigError, match=r"isc.yaml:2: item2: 'other.io/a/x:1' and 'quay.io/a/x:1' \(isc.yaml:1"):
        make_plan([image("quay.io/a/x:1"), image("other.io/a/x:1", line=2)], SOURCE, TARGET)


def test_orders_by_oc_mirror_type_priority_and_keeps_isc_order_within_a_type():
    plan = make_plan([image("q.io/a/catalog:1", ImageKind.OPERATOR_CATALOG), image("q.io/a/b:1"),
                      image("q.io/a/c:1"), image("q.io/a/release:1", ImageKind.RELEASE_CONTENT)], SOURCE, TARGET)
    assert [p.origin for p in plan.images] == ["q.io/a/release:1", "q.io/a/b:1", "q.io/a/c:1", "q.io/a/catalog:1"]


def test_mapping_line_is_oc_mirror_format():
    digest = "sha256:" + "1" * 64
    plan = make_plan([image(f"quay.io/a/x:2@{digest}")], SOURCE, TARGET)
    assert plan.images[0].mapping_line == f"docker://quay.io/a/x@{digest}=docker://mirror:5000/ocp/a/x:2"


def test_max_nested_paths_folds_the_destination_and_can_make_names_collide():
    folded = RegistryEndpoint(RegistryDestination("mirror:5000", "ocp"), max_nested_paths=2)
    plan = make_plan([image("quay.io/a/b/c:1")], SOURCE, folded)
    assert plan.images[0].destination == "mirror:5000/ocp/a-b-c:1"
    with pytest.raises(ConfigError, match="would both be mirrored to mirror:5000/ocp/a-b-c:1"):
        make_plan([image("quay.io/a/b/c:1"), image("quay.io/a/b-c:1", line=2)], SOURCE, folded)


def test_the_collector_is_paused_while_an_isc_or_a_plan_is_built_and_comes_back_as_it_was():
    import gc

    import pytest

    from skomirror.run import collector_paused

    assert gc.isenabled()
    with pytest.raises(ValueError):
        with collector_paused():
            assert not gc.isenabled()
            raise ValueError("a bad ISC")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # whoever turned it off keeps it off
    finally:
        gc.enable()
