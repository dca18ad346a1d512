"""examples/kubernetes parses, and holds what the README says it does: an Indexed Job whose shards agree on N, the
auth file from a Secret, the ISC from a ConfigMap (one skomirror loads), per-shard workspaces on one volume, and a
merge step that names every shard's workspace. No cluster and no kubeconform: the fields are read with PyYAML."""

import re
import shlex
from pathlib import Path

import yaml

from skomirror.config import load_config
from skomirror.shards import shard_from_environment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "kubernetes"


def documents(name: str):
    return {document["kind"]: document for document in yaml.safe_load_all((EXAMPLES / name).read_text())}


def test_the_indexed_job_runs_one_shard_per_index_with_the_secret_the_configmap_and_the_volume(tmp_path):
    found = documents("mirror-shards.yaml")
    assert sorted(found) == ["ConfigMap", "Job", "PersistentVolumeClaim", "Secret"]
    job = found["Job"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == job["parallelism"] == 3
    assert job["backoffLimitPerIndex"] >= 1  # a failing shard does not end the others
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"  # what backoffLimitPerIndex requires
    container, = pod["containers"]
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    assert env["JOB_COMPLETIONS"] == str(job["completions"])
    assert shard_from_environment({"JOB_COMPLETION_INDEX": "2", **env})[0] is not None
    command = shlex.split(container["command"][-1])
    assert command[:5] == ["exec", "skomirror", "run", "/config/isc.yaml", "docker://mirror.example.com:5000/ocp"]
    assert command[5:] == ["--workspace", "/workspaces/shard-$JOB_COMPLETION_INDEX"]

    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["auth"]["secret"]["secretName"] == found["Secret"]["metadata"]["name"]
    assert env["REGISTRY_AUTH_FILE"] == f"{mounts['auth']}/auth.json" and "auth.json" in found["Secret"]["stringData"]
    assert volumes["config"]["configMap"]["name"] == found["ConfigMap"]["metadata"]["name"]
    assert command[3] == f"{mounts['config']}/isc.yaml"
    assert volumes["workspaces"]["persistentVolumeClaim"]["claimName"] == \
        found["PersistentVolumeClaim"]["metadata"]["name"]
    assert "ReadWriteMany" in found["PersistentVolumeClaim"]["spec"]["accessModes"]
    assert command[6].startswith(mounts["workspaces"] + "/")

    isc = tmp_path / "isc.yaml"
    isc.write_text(found["ConfigMap"]["data"]["isc.yaml"])
    config = load_config(isc)
    assert config.mirror.additional_images and config.mirror.operators


def test_the_merge_step_names_every_shards_workspace_on_the_same_volume():
    shards = documents("mirror-shards.yaml")
    merge = documents("merge.yaml")["Job"]["spec"]["template"]["spec"]
    container, = merge["containers"]
    assert container["args"][:3] == ["merge", "--workspace", "/workspaces/merged"]
    count = shards["Job"]["spec"]["completions"]
    assert container["args"][3:] == [f"/workspaces/shard-{k}" for k in range(count)]
    claim, = [volume["persistentVolumeClaim"]["claimName"] for volume in merge["volumes"]]
    assert claim == shards["PersistentVolumeClaim"]["metadata"]["name"]
    assert re.fullmatch(r"/workspaces", container["volumeMounts"][0]["mountPath"])
