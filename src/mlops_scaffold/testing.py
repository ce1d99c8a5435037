"""Test your own Pulumi programs under Pulumi's mock engine and get back every resource they
registered: no cluster, no cloud credentials, no Pulumi CLI. Secret values read as `SECRET`.

    from mlops_scaffold.testing import run_program

    def program() -> None:
        build_platform(load_spec(Path("mlops.yaml")))

    run = run_program(program, project=PULUMI_PROJECT, stack="dev")
    namespaces = run.of_type("kubernetes:core/v1:Namespace")
    assert all(r.parent for r in run.resources)

Helm releases are recorded as `kubernetes:helm.sh/v3:Release` with their values; the mock
engine does not expand charts. This is the public face of `mlops_scaffold.mock_engine`.
"""

from __future__ import annotations

from mlops_scaffold.mock_engine import SECRET, CapturedResource, MockRun, RecordingMocks, run_program, scrub

__all__ = ["SECRET", "CapturedResource", "MockRun", "RecordingMocks", "run_program", "scrub"]
