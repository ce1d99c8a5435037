"""Generated CI, project and platform, for GitHub and GitLab: the field's linters and our structure rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ci_lint import check_github_structure, lint_github, lint_gitlab, load_yaml
from conftest import CliRunner
from project_renders import IDS, MATRIX, rendered

from mlops_scaffold.ci.identity import authentication_config, ci_username
from mlops_scaffold.ci.platform import platform_ci_files
from mlops_scaffold.spec import Platform, SpecSet, parse_text

GITHUB_MATRIX = [(c, i) for c, i in zip(MATRIX, IDS, strict=True) if c[1] == "github"]
GITLAB_MATRIX = [(c, i) for c, i in zip(MATRIX, IDS, strict=True) if c[1] == "gitlab"]
PLATFORMS = {
    "github-self-managed": "name: p\n",
    "github-cloud": "name: p\nci: {state_backend: pulumi-cloud}\n",
    "gitlab-self-managed": "name: p\nci: {provider: gitlab}\n",
    "gitlab-cloud": "name: p\nci: {provider: gitlab, state_backend: pulumi-cloud}\nenvironments: [{name: dev}, {name: prod, approval: true}]\n",
}


@pytest.mark.parametrize("combo", [c for c, _ in GITHUB_MATRIX], ids=[i for _, i in GITHUB_MATRIX])
def test_project_github_workflows(combo: tuple[str, str, str, str]) -> None:
    root = rendered(combo)
    workflows = sorted((root / ".github" / "workflows").glob("*.yml"))
    assert [p.name for p in workflows] == ["build.yml", "ci.yml", "deploy.yml", "train.yml"]
    assert not (root / ".gitlab-ci.yml").exists()
    lint_github(workflows)
    check_github_structure(workflows)
    deploy = load_yaml(root / ".github" / "workflows" / "deploy.yml")
    # environments before the first that needs approval follow each build; deploy.yml offers the rest
    assert deploy["on"]["workflow_dispatch"]["inputs"]["environment"]["options"] == ["prod"]
    assert deploy["jobs"]["promote"]["environment"] == "${{ inputs.environment }}"
    build = load_yaml(root / ".github" / "workflows" / "build.yml")
    assert [j for j in build["jobs"] if j.startswith("promote-")] == ["promote-dev", "promote-staging"]
    assert build["jobs"]["promote-staging"]["environment"] == "staging"
    assert build["jobs"]["promote-staging"]["needs"] == "promote-dev"
    assert build["jobs"]["image"]["permissions"] == {"contents": "read", "id-token": "write"}
    push = next(s for s in build["jobs"]["image"]["steps"] if "build-push-action" in s.get("uses", ""))
    assert push["with"]["provenance"] == "mode=max"
    assert push["with"]["sbom"] is True
    train = load_yaml(root / ".github" / "workflows" / "train.yml")
    gpu = answers_gpus(combo)
    assert ("id-token" in train["jobs"]["train"]["permissions"]) == bool(gpu), "only cluster training needs OIDC"


def answers_gpus(combo: tuple[str, str, str, str]) -> int:
    return 1 if combo[0] in ("pytorch", "xgboost") else 0


@pytest.mark.parametrize("combo", [c for c, _ in GITLAB_MATRIX], ids=[i for _, i in GITLAB_MATRIX])
def test_project_gitlab_ci(combo: tuple[str, str, str, str]) -> None:
    root = rendered(combo)
    assert not (root / ".github").exists()
    config = lint_gitlab(root / ".gitlab-ci.yml")
    jobs = {k: v for k, v in config.items() if isinstance(v, dict) and "script" in v}
    assert set(jobs) == {"test", "build", "promote-dev", "promote-staging", "promote-prod", "train"}
    assert config["default"]["timeout"]
    assert jobs["promote-prod"]["environment"]["name"] == "prod"
    assert jobs["promote-prod"]["when"] == "manual"
    assert "CLUSTER_OIDC_TOKEN" in jobs["build"]["id_tokens"]
    for name, job in jobs.items():
        assert "CI_JOB_TOKEN" not in json.dumps(job.get("variables", {})), name


def _platform(text: str) -> Platform:
    platform = SpecSet(parse_text(text, "p.yaml")).platform
    assert platform is not None
    return platform


@pytest.mark.parametrize("name", PLATFORMS)
def test_platform_ci(name: str, tmp_path: Path) -> None:
    platform = _platform(PLATFORMS[name])
    files = platform_ci_files(platform)
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(tmp_path / "ci")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ruff.returncode == 0, ruff.stdout
    envs = [e.name for e in platform.environments]
    if platform.ci.provider == "github":
        workflows = sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
        assert [p.name for p in workflows] == ["platform-drift.yml", "platform-preview.yml", "platform-up.yml"]
        lint_github(workflows)
        check_github_structure(workflows)
        up = load_yaml(tmp_path / ".github" / "workflows" / "platform-up.yml")["jobs"]
        assert [job["environment"] for job in up.values()] == envs
        drift = (tmp_path / ".github" / "workflows" / "platform-drift.yml").read_text()
        assert "--expect-no-changes" in drift
        assert "schedule" in load_yaml(tmp_path / ".github" / "workflows" / "platform-drift.yml")["on"]
        preview = (tmp_path / ".github" / "workflows" / "platform-preview.yml").read_text()
        assert "GITHUB_STEP_SUMMARY" in preview
    else:
        config = lint_gitlab(tmp_path / ".gitlab-ci.yml")
        for env in platform.environments:
            job = config[f"up-{env.name}"]
            assert job["environment"]["name"] == env.name
            assert (job["rules"][0].get("when") == "manual") == env.approval
    renovate = json.loads(files["renovate.json"])
    assert "helpers:pinGitHubActionDigests" in renovate["extends"]
    text = "\n".join(files.values())
    # Renovate's regex (JavaScript named groups) finds the pinned Pulumi CLI version
    assert re.search(renovate["customManagers"][0]["matchStrings"][0].replace("(?<", "(?P<"), text)
    if platform.ci.state_backend == "pulumi-cloud":
        assert "--oidc-token" in text
        assert "PULUMI_ACCESS_TOKEN" not in text
    else:
        assert "PULUMI_BACKEND_URL" in text


def test_platform_ci_command_writes_files(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text("name: p\n")
    result = cli("platform-ci", "--spec", spec, tmp_path / "repo")
    assert result.code == 0
    assert (tmp_path / "repo" / ".github" / "workflows" / "platform-up.yml").is_file()
    assert (tmp_path / "repo" / "ci" / "kubeconfig.py").is_file()


def test_ci_identities_are_scoped_to_the_repository_and_branch() -> None:
    github = _platform("name: p\nci: {organization: acme}\n")
    gitlab = _platform("name: p\nci: {provider: gitlab, organization: acme}\n")
    assert ci_username(github, "churn") == "github:repo:acme/churn:ref:refs/heads/main"
    assert ci_username(gitlab, "churn") == "gitlab:project_path:acme/churn:ref_type:branch:ref:main"
    config = authentication_config(github)
    jwt = config["jwt"][0]
    assert jwt["issuer"] == {"url": "https://token.actions.githubusercontent.com", "audiences": ["kubernetes"]}
    assert jwt["claimMappings"]["username"]["expression"] == "'github:' + claims.sub"
    assert "'acme'" in jwt["claimValidationRules"][0]["expression"]


def test_project_role_binding_names_the_repository_identity() -> None:
    from mlops_scaffold.plan import plan_platform

    specs = SpecSet(parse_text("name: p\nci: {organization: acme}\n---\nkind: Project\nname: churn\n", "p.yaml"))
    run = plan_platform(specs)
    binding = next(m for m in run.manifests() if m["kind"] == "RoleBinding")
    users = [s["name"] for s in binding["subjects"] if s["kind"] == "User"]
    assert users == ["github:repo:acme/churn:ref:refs/heads/main"]
    assert json.loads(run.outputs["ciAuthenticationConfig"])["kind"] == "AuthenticationConfiguration"


def test_platform_and_project_ci_pin_the_same_actions() -> None:
    from conftest import REPO

    partial = (REPO / "templates" / "_partials" / "actions.jinja").read_text()
    files = platform_ci_files(_platform("name: p\n"))
    uses = re.findall(r"uses: (\S+@[0-9a-f]{40} # v[\d.]+)", files[".github/workflows/platform-up.yml"])
    assert uses, "the platform workflows use no pinned action"
    for pin in uses:
        assert f'"{pin}"' in partial, f"{pin} is not one of the template's pinned actions"


def test_platform_ci_refuses_to_overwrite_without_force(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text("name: p\n")
    assert cli("platform-ci", "--spec", spec, tmp_path / "repo").code == 0
    up = tmp_path / "repo" / ".github" / "workflows" / "platform-up.yml"
    up.write_text("# my edit\n")
    result = cli("platform-ci", "--spec", spec, tmp_path / "repo")
    assert result.code == 2
    assert "exists" in result.err
    assert "--force" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert up.read_text() == "# my edit\n"
    assert cli("platform-ci", "--spec", spec, "--force", tmp_path / "repo").code == 0
    assert up.read_text().startswith("# Generated by mlops-scaffold")
