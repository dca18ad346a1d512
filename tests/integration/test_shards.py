"""--shard K/N with real skopeo and registries: three shards at once against one source and one destination, each
image copied by one shard, each blob pulled once, and `skomirror merge` giving the files of one unsharded run; in
mirror to disk, the shards' shipments gathered and received by one --from."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

from testkit.images import make_layer, simple_image
from testkit.wanproxy import WanProxy
from tests.integration.conftest import PROJECT, _command, results, skomirror, skopeo_digest, write_isc

SHARDS = 3


def family_images() -> Dict[tuple, object]:
    """Four families on their own base (each under a third of the bytes), two tags of one image, loners."""
    images = {}
    for family, base_size in enumerate((900_000, 600_000, 450_000, 300_000)):
        base = [make_layer(f"shards-base-{family}", base_size)]
        for member in range(3):
            images[(f"family{family}/app{member}", "1")] = simple_image(f"shards-{family}-{member}",
                                                                        (90_000 + 21_000 * member,), base=base)
    images[("twins/left", "1")] = images[("twins/right", "1")] = simple_image("shards-twin", (270_000,))
    for loner in range(3):
        images[(f"loners/l{loner}", "1")] = simple_image(f"shards-loner-{loner}", (120_000 + loner,))
    return images


def unique_bytes(images) -> int:
    return sum(len(blob.data) for blob in {b.digest: b for image in images for b in image.blobs}.values())


def run_shards_at_once(arguments: List[str], workspaces: List[Path], cwd: Path, destinations: List[str]):
    """The shards as separate processes started together, as the pods of an Indexed Job."""
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    processes = [subprocess.Popen(_command([*arguments, destination, "--shard", f"{k}/{SHARDS}", "--workspace",
                                            str(workspace), "--parallel-images", "4"], True),
                                  cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for k, (workspace, destination) in enumerate(zip(workspaces, destinations))]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stdout + stderr
    return [stderr for _, stderr in outputs]  # the console, summary included, is on stderr


def merge(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    command = _command([], True)
    command[command.index("run"):] = ["merge", *arguments]
    return subprocess.run(command, cwd=cwd, env=dict(os.environ, PYTHONPATH=str(PROJECT)), capture_output=True,
                          text=True, timeout=120)


def blob_gets(log: str) -> Dict[str, int]:
    found: Dict[str, int] = {}
    for digest in re.findall(r'"GET /v2/\S+/blobs/(sha256:[0-9a-f]{64}) HTTP', log):
        found[digest] = found.get(digest, 0) + 1
    return found


def without_timestamps(directory: Path) -> Dict[str, str]:
    return {path.name: re.sub(r"createdAt: .*", "createdAt: T", path.read_text()) for path in directory.iterdir()}


def test_three_shards_at_once_copy_each_image_once_and_merge_into_the_unsharded_run(tmp_path, source, destination):
    images = family_images()
    for (repository, tag), image in images.items():
        source.push(repository, tag, image)
    pinned = f"{source.host}/loners/l0@{images[('loners/l0', '1')].digest}"
    target = f"docker://{destination.host}/mirror"
    layers = {layer.blob.digest for image in images.values() for layer in image.layers}
    with WanProxy(source.port, latency=0.002, connection_rate=1_500_000) as link:  # copies overlap in time
        names = [f"{link.host}/{repository}:{tag}" for repository, tag in images] + [pinned.replace(source.host,
                                                                                                    link.host)]
        isc = write_isc(tmp_path / "isc.yaml", names)
        log_before = source.log_path.read_text()
        whole = skomirror(str(isc), target, "--workspace", str(tmp_path / "whole"), cwd=tmp_path)
        assert whole.returncode == 0, whole.stdout + whole.stderr
        gets_whole = blob_gets(source.log_path.read_text()[len(log_before):])
        destination.stop()  # the same registry, empty again, for the shards
        shutil.rmtree(destination.storage)
        destination.start()

        log_before, pulled_before = source.log_path.read_text(), link.counters.bytes_down
        workspaces = [tmp_path / f"ws-{k}" for k in range(SHARDS)]
        outputs = run_shards_at_once([str(isc)], workspaces, tmp_path, [target] * SHARDS)
        pulled = link.counters.bytes_down - pulled_before
        gets = blob_gets(source.log_path.read_text()[len(log_before):])
    for (repository, tag), image in images.items():
        assert skopeo_digest(f"{destination.host}/mirror/{repository}:{tag}") == image.digest
    # each layer once over all shards; a config as often as one unsharded run reads it (skopeo reads it per copy)
    assert {digest: count for digest, count in gets.items() if digest in layers and count > 1} == {}
    assert sorted(layers) == sorted(digest for digest in gets if digest in layers)
    assert gets == gets_whole
    # through the link over all shards: the unique bytes, manifests and headers aside (one base twice: +300 kB)
    assert pulled <= 1.05 * unique_bytes(images.values()), (pulled, unique_bytes(images.values()))

    shard_of = {}
    for k, workspace in enumerate(workspaces):
        for entry in results(workspace)["images"]:
            assert entry["destination"] not in shard_of, entry  # each image in one shard's share
            assert entry["status"] == "copied", entry
            shard_of[entry["destination"]] = k
    assert len(shard_of) == len(names)
    for family in range(4):  # what shares a base goes to one shard
        assert len({shard_of[f"{target}/family{family}/app{m}:1"] for m in range(3)}) == 1
    assert shard_of[f"{target}/twins/left:1"] == shard_of[f"{target}/twins/right:1"]
    assert len(set(shard_of.values())) == SHARDS, outputs  # and every shard had a share
    assert any(f"shard 0/{SHARDS}: " in line and f"of {len(names)} images" in line for line in outputs[0].splitlines())

    merged = merge("--workspace", str(tmp_path / "merged"), *map(str, workspaces), cwd=tmp_path)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    merged_ws, whole_ws = tmp_path / "merged", tmp_path / "whole"
    assert (merged_ws / "mapping.txt").read_bytes() == (whole_ws / "mapping.txt").read_bytes()
    assert without_timestamps(merged_ws / "cluster-resources") == without_timestamps(whole_ws / "cluster-resources")
    assert sorted(without_timestamps(merged_ws / "cluster-resources")) == ["idms-oc-mirror.yaml", "itms-oc-mirror.yaml"]

    def essentials(workspace: Path):
        return sorted((e["source"], e["destination"], e["origin"], e["type"], e["digest"], e["size"])
                      for e in results(workspace)["images"])

    assert essentials(merged_ws) == essentials(whole_ws)
    merged_run = results(merged_ws)["run"]
    assert merged_run["counts"]["copied"] == len(names)
    assert [shard["shard"] for shard in merged_run["shards"]] == list(range(SHARDS))
    assert {e["status"] for e in results(whole_ws)["images"]} == {"copied"}


def test_a_failing_shard_fails_alone_and_merge_refuses_a_shard_missing_or_twice(tmp_path, source, destination):
    images = family_images()
    for (repository, tag), image in list(images.items())[:4]:
        source.push(repository, tag, image)
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/{repository}:{tag}" for repository, tag in list(images)[:4]]
                    + [f"{source.host}/nowhere/gone:1"])
    target = f"docker://{destination.host}/mirror"
    codes = []
    for k in range(SHARDS):
        run = skomirror(str(isc), target, "--shard", f"{k}/{SHARDS}", "--workspace", str(tmp_path / f"ws-{k}"),
                        cwd=tmp_path)
        codes.append(run.returncode)
    assert sorted(codes) == [0, 0, 8], codes  # the shard holding the missing image, and only it
    missing = merge("--workspace", str(tmp_path / "m"), str(tmp_path / "ws-0"), str(tmp_path / "ws-2"), cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [f"skomirror: error: shard 1/{SHARDS} is missing: give the workspaces of "
                                           f"all {SHARDS} shards (1 missing)"]
    twice = merge("--workspace", str(tmp_path / "m"), str(tmp_path / "ws-0"), str(tmp_path / "ws-0"), cwd=tmp_path)
    assert twice.returncode == 1 and len(twice.stderr.splitlines()) == 1, twice.stderr
    assert not (tmp_path / "m" / "results.json").exists()

    merged = merge("--workspace", str(tmp_path / "m"), *(str(tmp_path / f"ws-{k}") for k in range(SHARDS)),
                   cwd=tmp_path)
    assert merged.returncode == 8, merged.stdout + merged.stderr
    assert "5 images: 4 copied, 0 skipped (already mirrored), 1 failed" in merged.stderr
    errors = (tmp_path / "m" / "mirroring_errors.txt").read_text().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"error mirroring image {source.host}/nowhere/gone:1 error: ")
    assert len((tmp_path / "m" / "mapping.txt").read_text().splitlines()) == 5


def test_mirror_to_disk_shards_are_received_by_one_from(tmp_path, source, destination):
    images = family_images()
    for (repository, tag), image in images.items():
        source.push(repository, tag, image)
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/{repository}:{tag}" for repository, tag in images])
    workspaces = [tmp_path / f"ws-{k}" for k in range(SHARDS)]
    run_shards_at_once([str(isc)], workspaces, tmp_path, [f"file://{tmp_path}/disk-{k}" for k in range(SHARDS)])
    shipped = {}
    for k in range(SHARDS):
        manifests = sorted((tmp_path / f"disk-{k}").glob("mirror_shipment_*.json"))
        assert [path.name for path in manifests] == [f"mirror_shipment_{k + 1:04d}.json"]  # numbered K+1 mod N
        shipped[k] = json.loads(manifests[0].read_text())
        assert [part["name"] for part in shipped[k]["parts"]] == [f"mirror_{k + 1:06d}.tar"]

    carry = tmp_path / "carry"
    merged = merge("--workspace", str(tmp_path / "merged"), "--shipments", f"file://{carry}", *map(str, workspaces),
                   cwd=tmp_path)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert sorted(path.name for path in carry.iterdir() if path.name.startswith("mirror_")) == sorted(
        [f"mirror_shipment_{k + 1:04d}.json" for k in range(SHARDS)] + [f"mirror_{k + 1:06d}.tar" for k in range(SHARDS)])
    again = merge("--workspace", str(tmp_path / "merged"), "--shipments", str(carry), *map(str, workspaces),
                  cwd=tmp_path)
    assert again.returncode == 0 and "0 shipments gathered" in again.stderr, again.stdout + again.stderr

    pushed = skomirror("--from", f"file://{carry}", f"docker://{destination.host}/mirror", "--workspace",
                       str(tmp_path / "bastion"), cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    for (repository, tag), image in images.items():
        assert skopeo_digest(f"{destination.host}/mirror/{repository}:{tag}") == image.digest
    assert len(results(tmp_path / "bastion")["images"]) == len(images)
    assert sorted(path.name for path in (tmp_path / "bastion" / "received").iterdir()) == [
        f"mirror_shipment_{k + 1:04d}.json" for k in range(SHARDS)]


def test_a_shard_left_with_nothing_ends_cleanly_and_still_counts_in_the_merge(tmp_path, source, destination):
    image = simple_image("shards-alone", (20_000,))
    source.push("alone/app", "1", image)
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/alone/app:1"])
    target = f"docker://{destination.host}/mirror"
    runs = [skomirror(str(isc), target, "--shard", f"{k}/2", "--workspace", str(tmp_path / f"ws-{k}"), cwd=tmp_path)
            for k in range(2)]
    assert [run.returncode for run in runs] == [0, 0], [run.stdout + run.stderr for run in runs]
    empty = [k for k in range(2) if not results(tmp_path / f"ws-{k}")["images"]]
    assert len(empty) == 1 and f"shard {empty[0]}/2: 0 of 1 image" in runs[empty[0]].stderr
    assert (tmp_path / f"ws-{empty[0]}" / "mapping.txt").read_text() == ""
    merged = merge("--workspace", str(tmp_path / "merged"), str(tmp_path / "ws-0"), str(tmp_path / "ws-1"),
                   cwd=tmp_path)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert skopeo_digest(f"{destination.host}/mirror/alone/app:1") == image.digest
    assert [e["status"] for e in results(tmp_path / "merged")["images"]] == ["copied"]
