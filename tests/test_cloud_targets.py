"""The aws and gcp targets under Pulumi's mock engine: the resource graph, and policy checks on it.

IAM documents are linted with parliament; buckets, databases and trust policies are checked
for the properties the platform promises (never public, private, scoped to one identity).
"""

from __future__ import annotations

import json
import sys
import warnings
from collections import Counter
from functools import cache
from typing import Any

import pytest
from conftest import EXAMPLES, CliRunner

from mlops_scaffold.plan import plan_platform

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ResourceWarning)  # parliament leaves its data files open on import
    import parliament  # type: ignore[import-untyped]
from mlops_scaffold.spec import SpecSet, load_spec, parse_text
from mlops_scaffold.testing import SECRET, MockRun

AWS_SPEC = """\
name: acme
target: aws
aws: {region: eu-west-1, account_id: "123456789012"}
ci: {provider: github, organization: acme}
training:
  frameworks: [ray]
  queues:
    - {name: default}
    - {name: gpu, gpu: 4, pools: [gpu]}
  node_pools:
    - {name: cpu, instance_type: m6i.xlarge, min: 1, max: 4}
    - name: gpu
      instance_type: g5.xlarge
      gpu: {type: nvidia-a10g, count: 1}
      min: 0
      max: 4
      spot: true
      labels: {pool: gpu}
      taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
---
kind: Project
name: churn
---
kind: Project
name: vision
framework: pytorch
training: {queue: gpu, gpus: 1}
"""
GCP_PROJECT = "---\nkind: Project\nname: vision\nframework: pytorch\ntraining: {queue: default, gpus: 1}\n"
SCOPED_SUBJECTS = (
    "system:serviceaccount:mlflow:mlflow",
    "system:serviceaccount:kube-system:cluster-autoscaler",
    "repo:acme/",
)
SENSITIVE = {"iam", "s3", "kms", "ecr", "eks", "sts", "rds", "secretsmanager", "ec2"}


@cache
def planned(name: str) -> tuple[SpecSet, MockRun]:
    specs = {
        "aws": lambda: SpecSet(parse_text(AWS_SPEC, "aws.yaml")),
        "aws-existing-vpc": lambda: load_spec(EXAMPLES / "platform-full.yaml"),
        "gcp": lambda: SpecSet(parse_text((EXAMPLES / "platform-gcp.yaml").read_text() + GCP_PROJECT, "gcp.yaml")),
    }[name]()
    return specs, plan_platform(specs)


def _types(run: MockRun) -> Counter[str]:
    return Counter(r.type for r in run.resources)


def _documents(run: MockRun) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM document the aws program creates: trust policies, role policies, bucket policies."""
    found = []
    for r in run.resources:
        for key in ("assumeRolePolicy", "policy"):
            value = r.inputs.get(key)
            if isinstance(value, str) and '"Statement"' in value:
                found.append((f"{r.name}.{key}", json.loads(value)))
    return found


def test_aws_graph() -> None:
    _, run = planned("aws")
    types = _types(run)
    assert types["aws:ec2/vpc:Vpc"] == 1
    assert types["aws:ec2/subnet:Subnet"] == 4
    assert types["aws:ec2/natGateway:NatGateway"] == 1
    assert types["aws:eks/cluster:Cluster"] == 1
    assert types["aws:eks/nodeGroup:NodeGroup"] == 2
    assert types["aws:ecr/repository:Repository"] == 2
    assert types["aws:ecr/lifecyclePolicy:LifecyclePolicy"] == 2
    assert types["aws:s3/bucket:Bucket"] == 1
    assert types["aws:rds/instance:Instance"] == 1
    assert types["aws:iam/openIdConnectProvider:OpenIdConnectProvider"] == 2  # IRSA and the CI issuer
    assert types["aws:eks/accessEntry:AccessEntry"] == 2
    autoscaler = next(
        r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "cluster-autoscaler"
    )
    assert autoscaler.inputs["values"]["autoDiscovery"] == {"clusterName": "acme"}
    role = autoscaler.inputs["values"]["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role.endswith("/cluster-autoscaler")
    # the Kubernetes platform runs on the managed cluster, with the managed services in place of in-cluster ones
    names = {r.name for r in run.resources}
    assert "kueue" in names
    assert "zot" not in names
    kinds = Counter(m["kind"] for m in run.manifests())
    assert kinds["StatefulSet"] == 0  # no in-cluster PostgreSQL or object store
    provider = next(r for r in run.of_type("pulumi:providers:kubernetes"))
    assert json.loads(provider.inputs["kubeconfig"])["users"][0]["user"]["exec"]["command"] == "aws"
    assert run.outputs["registryUrl"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert set(run.outputs["ciRoleArns"]) == {"churn", "vision"}


def test_aws_gpu_pool_scales_to_zero_on_the_gpu_ami_with_its_taints() -> None:
    _, run = planned("aws")
    gpu = next(r for r in run.of_type("aws:eks/nodeGroup:NodeGroup") if r.inputs["nodeGroupName"] == "gpu")
    assert gpu.inputs["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu.inputs["capacityType"] == "SPOT"
    assert gpu.inputs["scalingConfig"] == {"minSize": 0, "maxSize": 4, "desiredSize": 0}
    assert gpu.inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert gpu.inputs["tags"]["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"] == "present:NoSchedule"
    cpu = next(r for r in run.of_type("aws:eks/nodeGroup:NodeGroup") if r.inputs["nodeGroupName"] == "cpu")
    assert cpu.inputs["amiType"] == "AL2023_x86_64_STANDARD"


def test_aws_registry_bucket_and_database_settings() -> None:
    _, run = planned("aws")
    for repo in run.of_type("aws:ecr/repository:Repository"):
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    block = run.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert run.of_type("aws:s3/bucketVersioning:BucketVersioning")[0].inputs["versioningConfiguration"] == {
        "status": "Enabled"
    }
    assert run.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    db = run.of_type("aws:rds/instance:Instance")[0].inputs
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["backupRetentionPeriod"] == 7
    assert db["password"] == SECRET  # a Pulumi secret, never plaintext in state or plans
    firewall = run.of_type("aws:ec2/securityGroup:SecurityGroup")[0].inputs
    assert all("0.0.0.0/0" not in rule["cidrBlocks"] for rule in firewall["ingress"])


def _lint(document: dict[str, Any]) -> list[str]:
    """parliament's findings on one document.

    parliament reads identity policies; a trust policy is the role's resource policy, so its
    statements get the role as their Resource before linting. For OIDC federation, parliament
    knows only a few built-in identity providers and none of their condition keys, so exactly
    those two findings are set aside for Federated statements; the subject and audience
    conditions are checked by the tests below instead.
    """
    linted = json.loads(json.dumps(document))
    federated = False
    for statement in linted["Statement"]:
        if "Principal" in statement and "Resource" not in statement:
            statement["Resource"] = "arn:aws:iam::123456789012:role/linted"
        federated |= isinstance(statement.get("Principal"), dict) and "Federated" in statement["Principal"]
    findings = parliament.analyze_policy_string(json.dumps(linted)).findings
    known_gaps = {"UNKNOWN_FEDERATION_SOURCE", "UNKNOWN_CONDITION_FOR_ACTION"} if federated else set()
    return [f"{f.issue}: {f.detail}" for f in findings if f.issue not in known_gaps]


@pytest.mark.parametrize("name", ["aws", "aws-existing-vpc"])
def test_iam_documents_pass_parliament(name: str) -> None:
    documents = _documents(planned(name)[1])
    assert len(documents) >= (11 if name == "aws" else 7)
    for where, document in documents:
        assert _lint(document) == [], where


def test_the_iam_lint_can_fail() -> None:
    misspelt = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}
    assert any("UNKNOWN_ACTION" in f for f in _lint(misspelt))
    wrong_resource = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "arn:aws:s3:::bucket"}],
    }
    assert any("RESOURCE_MISMATCH" in f for f in _lint(wrong_resource))


@pytest.mark.parametrize("name", ["aws", "aws-existing-vpc"])
def test_no_wildcard_actions_on_sensitive_services_and_every_trust_is_scoped(name: str) -> None:
    for where, document in _documents(planned(name)[1]):
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Effect"] == "Allow":
                for action in actions:
                    service, _, verb = action.partition(":")
                    assert not (service in SENSITIVE and "*" in verb), f"{where}: {action}"
                    assert action != "*", where
            principal = statement.get("Principal")
            if isinstance(principal, dict) and "Federated" in principal:
                conditions = statement["Condition"]
                subjects = {k: v for c in conditions.values() for k, v in c.items() if k.endswith(":sub")}
                assert subjects, f"{where}: a federated trust without a subject condition"
                for value in subjects.values():
                    for subject in value if isinstance(value, list) else [value]:
                        assert "*" not in subject, f"{where}: {subject}"
                        assert subject.startswith((*SCOPED_SUBJECTS,)), subject
            elif principal is not None and statement["Effect"] == "Allow":
                assert set(principal) == {"Service"}, where


def test_ci_roles_trust_only_their_repository_main_and_protected_environments() -> None:
    _, run = planned("aws")
    role = next(r for r in run.of_type("aws:iam/role:Role") if r.name.endswith("ci-vision"))
    condition = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
    assert condition["StringLike"]["token.actions.githubusercontent.com:sub"] == [
        "repo:acme/vision:ref:refs/heads/main",
        "repo:acme/vision:environment:prod",
    ]
    assert condition["StringEquals"] == {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}


def test_existing_vpc_is_used_not_created() -> None:
    _, run = planned("aws-existing-vpc")
    assert not run.of_type("aws:ec2/vpc:Vpc")
    cluster = run.of_type("aws:eks/cluster:Cluster")[0]
    assert cluster.inputs["vpcConfig"]["subnetIds"] == ["subnet-0mock0000000000a", "subnet-0mock0000000000b"]


def test_gcp_graph_and_policies() -> None:
    specs, run = planned("gcp")
    types = _types(run)
    assert types["gcp:container/cluster:Cluster"] == 1
    assert types["gcp:container/nodePool:NodePool"] == 2
    assert types["gcp:artifactregistry/repository:Repository"] == len(specs.projects)
    assert types["gcp:storage/bucket:Bucket"] == 1
    assert types["gcp:sql/databaseInstance:DatabaseInstance"] == 1
    assert types["gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"] == 1
    assert types["gcp:compute/network:Network"] == 0  # the spec names an existing network
    cluster = run.of_type("gcp:container/cluster:Cluster")[0].inputs
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "acme-ml-prod.svc.id.goog"}
    gpu = next(r for r in run.of_type("gcp:container/nodePool:NodePool") if r.inputs["name"] == "gpu").inputs
    assert gpu["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 4}
    assert gpu["nodeConfig"]["guestAccelerators"][0]["type"] == "nvidia-l4"
    assert gpu["nodeConfig"]["spot"] is True
    assert gpu["nodeConfig"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    bucket = run.of_type("gcp:storage/bucket:Bucket")[0].inputs
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["uniformBucketLevelAccess"] is True
    sql = run.of_type("gcp:sql/databaseInstance:DatabaseInstance")[0].inputs
    assert sql["settings"]["ipConfiguration"]["ipv4Enabled"] is False
    for repo in run.of_type("gcp:artifactregistry/repository:Repository"):
        assert repo.inputs["dockerConfig"] == {"immutableTags": True}
    members = [r.inputs for r in run.resources if r.type.endswith("IAMMember") or r.type.endswith("IamMember")]
    assert members
    for member in members:
        assert member["role"] not in ("roles/owner", "roles/editor", "roles/viewer")
        assert not member["member"].startswith(("allUsers", "allAuthenticatedUsers", "principalSet://"))
    federation = [m["member"] for m in members if m["member"].startswith("principal://")]
    assert federation
    assert specs.platform is not None
    org = specs.platform.ci.organization
    assert sorted(m.rsplit("/subject/", 1)[1] for m in federation) == [
        f"repo:{org}/vision:environment:prod",
        f"repo:{org}/vision:ref:refs/heads/main",
    ]
    provider = run.of_type("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")[0].inputs
    assert provider["attributeCondition"] == f"assertion.repository_owner == '{org}'"
    binding = next(m for m in run.manifests() if m["kind"] == "RoleBinding" and m["metadata"]["namespace"] == "vision")
    assert {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "User",
        "name": "ci-vision@acme-ml-prod.iam.gserviceaccount.com",
    } in binding["subjects"]


def test_plan_cli_works_offline_for_cloud_specs(cli: CliRunner) -> None:
    for spec in ("platform-full.yaml", "platform-gcp.yaml"):
        result = cli("plan", "--format", "json", EXAMPLES / spec)
        assert result.code == 0, result.err
        assert json.loads(result.out)["resources"]


@pytest.mark.parametrize(("spec", "extra"), [("platform-full.yaml", "aws"), ("platform-gcp.yaml", "gcp")])
def test_a_missing_extra_gets_a_one_line_install_hint(
    spec: str, extra: str, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, f"pulumi_{extra}", None)  # as if the extra were not installed
    result = cli("plan", EXAMPLES / spec)
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        f"mlops-scaffold: error: target {extra} (pulumi_{extra}) needs an optional extra: "
        f"pip install 'mlops-scaffold[{extra}]'"
    ]


def test_the_gcp_extra_works_without_the_aws_one(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith("mlops_scaffold.components.gcp")]:
        monkeypatch.delitem(sys.modules, name)  # imported afresh, with pulumi_aws gone
    monkeypatch.setitem(sys.modules, "pulumi_aws", None)
    result = cli("plan", "--format", "json", EXAMPLES / "platform-gcp.yaml")
    assert result.code == 0, result.err
