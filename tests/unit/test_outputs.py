import json
from pathlib import Path

from skomirror.collectors.types import ImageKind
from skomirror.records import Failure, FailureKind, ImageRecord
from skomirror.outputs import RunInfo, errors_text, exit_code, results_text, summary_lines
from skomirror.plan import Plan
from skomirror.workspace import Workspace
from tests.unit.conftest import planned


def record(name: str, status: str, kind=ImageKind.ADDITIONAL, failure=None) -> ImageRecord:
    image = planned(f"src.io/{name}:1", "dst.io/m", kind)
    return ImageRecord(image, Path(f"/ws/logs/{name}.log"), status=status, failure=failure, attempts=1)


NOT_FOUND = Failure(FailureKind.PERMANENT, "image not found", "reading manifest 1 in src.io/b: manifest unknown")


def test_exit_code_is_oc_mirrors_bit_mask():
    assert exit_code([record("a", "copied"), record("b", "skipped")], interrupted=False) == 0
    assert exit_code([record("a", "copied"), record("b", "failed", failure=NOT_FOUND)], False) == 8
    assert exit_code([record("a", "failed", ImageKind.OPERATOR_BUNDLE, NOT_FOUND),
                      record("b", "failed", ImageKind.RELEASE_CONTENT, NOT_FOUND),
                      record("c", "failed", failure=NOT_FOUND)], False) == 14
    assert exit_code([record("a", "failed", failure=NOT_FOUND)], interrupted=True) == 130


def test_errors_file_has_oc_mirrors_line_format():
    text = errors_text([record("a", "copied"), record("b", "failed", failure=NOT_FOUND)])
    assert text == ("error mirroring image src.io/b:1 error: image not found: reading manifest 1 in src.io/b: "
                    "manifest unknown\n")


def test_results_json_has_every_field_per_image():
    records = [record("a", "copied"), record("b", "failed", failure=NOT_FOUND)]
    records[0].digest = "sha256:" + "0" * 64
    document = json.loads(results_text(records, RunInfo("docker://dst.io/m", "1.9.3", "now"), Plan([])))
    first, second = document["images"]
    assert set(first) >= {"source", "destination", "digest", "status", "attempts", "seconds", "error", "log"}
    assert (first["source"], first["destination"], first["status"]) == \
        ("docker://src.io/a:1", "docker://dst.io/m/a:1", "copied")
    assert second["error"] == {"kind": "permanent", "reason": "image not found",
                               "message": "reading manifest 1 in src.io/b: manifest unknown"}
    assert document["run"]["counts"]["failed"] == 1


def test_summary_lists_each_failure_with_reason_and_log(tmp_path):
    records = [record("a", "copied"), record("b", "failed", failure=NOT_FOUND)]
    records[0].survey = None
    lines = summary_lines(records, RunInfo("docker://dst.io/m", "1.9.3", "now", elapsed=2.0), Workspace(tmp_path))
    assert lines[0] == "2 images: 1 copied, 0 skipped (already mirrored), 1 failed"
    assert "  src.io/b:1 -> dst.io/m/b:1: image not found: reading manifest 1 in src.io/b: manifest unknown" in lines
    assert "    log: /ws/logs/b.log" in lines
