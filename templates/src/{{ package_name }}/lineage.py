"""Lineage: where a model version came from, recorded as MLflow tags under one prefix, `lineage.`.

- `lineage.git.commit`, `lineage.git.dirty`: the code's commit (or $GIT_COMMIT in an image) and
  whether tracked files had uncommitted changes;
- `lineage.data.sha256`: the prepared data (data/prepared), hashed file by file;
- `lineage.data.dvc_md5`: the same data as dvc.lock names it, which `dvc pull` at the commit fetches;
- `lineage.params.sha256`: params.yaml as canonical JSON;
- `lineage.template.version`, `lineage.spec.sha256`: the mlops-scaffold template release, and mlops.yaml;
- `lineage.image.ref`, `lineage.image.digest`: the image trained in, or built after training;
- `lineage.k8s.namespace`, `lineage.k8s.job`, `lineage.k8s.job_uid`, `lineage.kueue.queue`: the
  in-cluster Job; its Kueue Workload carries the label `kueue.x-k8s.io/job-uid`.

`python -m <package>.lineage MODEL VERSION` prints the chain of a registered version and checks each
link against git (`--json` for machines); it exits 1 if a link does not resolve.
`python -m <package>.lineage record-image REF@DIGEST` adds the image to the last registered version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PREFIX = "lineage."
PREPARED = "data/prepared"
SPEC_FILE = Path("mlops.yaml")
REGISTERED = Path("artifacts/registered.json")
ENVIRONMENT = {  # tags read from the environment: CI and the in-cluster Job set these
    "image.ref": "IMAGE_REF",
    "image.digest": "IMAGE_DIGEST",
    "k8s.namespace": "POD_NAMESPACE",
    "k8s.job": "JOB_NAME",
    "k8s.job_uid": "JOB_UID",
    "kueue.queue": "KUEUE_QUEUE",
}


def git(*args: str, cwd: Path | None = None, raw: bool = False) -> str | None:
    """git's output (stripped unless `raw`), or None when git fails or is not installed."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return None
    if done.returncode != 0:
        return None
    return done.stdout if raw else done.stdout.strip()


def sha256_tree(directory: Path) -> str | None:
    """sha256 over every file's relative path and bytes, in path order; None if there is no such folder."""
    if not directory.is_dir():
        return None
    total = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        total.update(path.relative_to(directory).as_posix().encode() + b"\0")
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def dvc_md5(lock_text: str | None, out: str = PREPARED) -> str | None:
    """The hash dvc.lock records for an output (a folder's ends in .dir)."""
    if not lock_text:
        return None
    for stage in (yaml.safe_load(lock_text) or {}).get("stages", {}).values():
        for entry in stage.get("outs", []):
            if entry.get("path") == out:
                return str(entry.get("md5"))
    return None


def data_hashes(root: Path = Path()) -> dict[str, str]:
    lock = root / "dvc.lock"
    found = {"sha256": sha256_tree(root / PREPARED), "dvc_md5": dvc_md5(lock.read_text() if lock.is_file() else None)}
    return {k: v for k, v in found.items() if v}


def collect() -> dict[str, str]:
    """The lineage of the model about to be registered, as MLflow tags."""
    from . import TEMPLATE_VERSION
    from .params import digest, load

    commit = git("rev-parse", "HEAD") or os.environ.get("GIT_COMMIT")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    found: dict[str, str | None] = {
        "git.commit": commit,
        "git.dirty": None if dirty is None else str(bool(dirty)).lower(),
        "params.sha256": digest(load()),
        "template.version": TEMPLATE_VERSION,
        "spec.sha256": hashlib.sha256(SPEC_FILE.read_bytes()).hexdigest() if SPEC_FILE.is_file() else None,
    }
    found |= {f"data.{k}": v for k, v in data_hashes().items()}
    found |= {tag: os.environ.get(variable) for tag, variable in ENVIRONMENT.items()}
    return {PREFIX + k: v for k, v in found.items() if v}


def resolve(tags: dict[str, str], root: Path = Path()) -> list[dict[str, str]]:
    """Each link of a version's lineage, checked against the git history in `root`: status is
    `ok` (it resolves), `broken` (it names something that is not there or differs) or `recorded`."""
    from .params import digest

    links: list[dict[str, str]] = []

    def link(name: str, value: str | None, status: str, detail: str = "") -> None:
        links.append({"link": name, "value": value or "-", "status": status, "detail": detail})

    commit = tags.get(PREFIX + "git.commit")
    known = commit is not None and git("cat-file", "-e", f"{commit}^{{commit}}", cwd=root) is not None
    dirty = tags.get(PREFIX + "git.dirty") == "true"
    link("code", commit, "ok" if known else "broken", "in git" + (", with uncommitted changes" if dirty else ""))

    def at_commit(path: str) -> str | None:
        return git("show", f"{commit}:{path}", cwd=root, raw=True) if known else None

    recorded_md5 = tags.get(PREFIX + "data.dvc_md5")
    if recorded_md5:
        lock_md5 = dvc_md5(at_commit("dvc.lock"))
        same = lock_md5 == recorded_md5
        link("data", recorded_md5, "ok" if same else "broken", f"dvc.lock at the commit has {lock_md5 or 'no entry'}")
    link("data files", tags.get(PREFIX + "data.sha256"), "recorded", PREPARED)
    params_text = at_commit("params.yaml")
    params_hash = digest(yaml.safe_load(params_text)) if params_text else None
    recorded = tags.get(PREFIX + "params.sha256")
    link("params", recorded, "ok" if params_hash == recorded else "broken", "params.yaml at the commit")
    spec_text = at_commit(str(SPEC_FILE))
    spec_hash = hashlib.sha256(spec_text.encode()).hexdigest() if spec_text is not None else None
    recorded = tags.get(PREFIX + "spec.sha256")
    if recorded:
        link("spec", recorded, "ok" if spec_hash == recorded else "broken", "mlops.yaml at the commit")
    link("template", tags.get(PREFIX + "template.version"), "recorded", "mlops-scaffold release")
    for tag in ENVIRONMENT:
        if PREFIX + tag in tags:
            link(tag, tags[PREFIX + tag], "recorded")
    return links


def _client() -> Any:
    from mlflow import MlflowClient

    from .register import tracking_uri

    return MlflowClient(tracking_uri=tracking_uri(), registry_uri=tracking_uri())


def show(model: str, version: str, as_json: bool) -> int:
    client = _client()
    found = client.get_model_version(model, version)
    tags = dict(found.tags)
    links = resolve(tags)
    run = client.get_run(found.run_id) if found.run_id else None
    chain = {
        "model": model,
        "version": version,
        "run_id": found.run_id,
        "aliases": list(found.aliases),
        "metrics": dict(run.data.metrics) if run else {},
        "governance": {k: v for k, v in sorted(tags.items()) if k.startswith(("governance.", "promotion."))},
        "links": links,
    }
    if as_json:
        print(json.dumps(chain, indent=2, sort_keys=True))
    else:
        print(f"{model} version {version} (run {found.run_id}, aliases: {', '.join(found.aliases) or 'none'})")
        for item in links:
            print(f"  {item['status']:8} {item['link']:14} {item['value']}  {item['detail']}".rstrip())
        for key, value in chain["governance"].items():
            print(f"  {'':8} {key} = {value}")
    return 1 if any(item["status"] == "broken" for item in links) else 0


def record_image(reference: str) -> int:
    """Tag the last registered version (artifacts/registered.json) and its run with the image built from it."""
    if "@sha256:" not in reference:
        raise SystemExit(f"record-image: {reference!r} is not REF@sha256:DIGEST")
    if not REGISTERED.is_file():
        raise SystemExit(f"record-image: no {REGISTERED}; run `make train` first")
    registered = json.loads(REGISTERED.read_text())
    ref, digest = reference.split("@", 1)
    client = _client()
    for key, value in ((PREFIX + "image.ref", ref), (PREFIX + "image.digest", digest)):
        client.set_model_version_tag(registered["model"], registered["version"], key, value)
        client.set_tag(registered["run_id"], key, value)
    print(f"{registered['model']} version {registered['version']} <- {reference}")
    return 0


def main(argv: list[str] | None = None) -> None:
    from . import MODEL_NAME

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "record-image":
        if len(args) != 2:
            raise SystemExit("usage: python -m <package>.lineage record-image REF@sha256:DIGEST")
        sys.exit(record_image(args[1]))
    parser = argparse.ArgumentParser(prog="lineage", description="Print and check the lineage of a model version.")
    parser.add_argument("model", nargs="?", default=MODEL_NAME)
    parser.add_argument("version")
    parser.add_argument("--json", action="store_true", help="print the chain as JSON")
    parsed = parser.parse_args(args if len(args) != 1 else [MODEL_NAME, *args])
    sys.exit(show(parsed.model, parsed.version, parsed.json))


if __name__ == "__main__":
    main()
