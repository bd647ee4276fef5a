#!/usr/bin/env python3
"""Check the Kubernetes manifests and run their commands here as the Job
controller would: kube_indexed_job.py UNITS_YAML MERGE_YAML KAIEVAL PLAN OUT.
The ${...} fields are filled as envsubst would; the units Job must be an
Indexed Job of one completion per unit, each pod run with its
JOB_COMPLETION_INDEX; the merge Job's command runs after all of them."""
import json, os, re, string, subprocess, sys
import yaml

units_yaml, merge_yaml, kaieval, plan, out = sys.argv[1:6]
units = len(json.load(open(plan))["units"])
fill = dict(UNITS=str(units), PLAN=plan, OUT=out, IMAGE="kaieval:test", CLAIM="models")


def load(path):
    # As envsubst: ${NAME} filled, Kubernetes' own $(NAME) left alone.
    text = string.Template(open(path).read()).safe_substitute(fill)
    job = yaml.safe_load(text)
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job", path
    return job


def run(job, index=None):
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (c,) = pod["containers"]
    env = dict(os.environ, **{e["name"]: e["value"] for e in c["env"]})
    if index is not None:
        env["JOB_COMPLETION_INDEX"] = str(index)
    cmd = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in c["command"]]
    assert cmd[0] == "kaieval", cmd
    return subprocess.call([kaieval] + cmd[1:], env=env)


job = load(units_yaml)
spec = job["spec"]
assert spec["completionMode"] == "Indexed"
assert spec["completions"] == units and spec["parallelism"] >= 1
assert spec["backoffLimitPerIndex"] >= 1 and spec["maxFailedIndexes"] == 0
failed = [i for i in range(units) if run(job, i) != 0]
assert not failed, failed
sys.exit(run(load(merge_yaml)))
