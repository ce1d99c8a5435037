"""ArtifactBucket: the GCS bucket MLflow writes artifacts to: uniform access, never public, versioned."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from mlops_scaffold.spec.platform import GcpSettings


class ArtifactBucket(pulumi.ComponentResource):
    bucket: gcp.storage.Bucket

    def __init__(self, name: str, bucket_name: str, settings: GcpSettings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops-scaffold:gcp:ArtifactBucket", name, None, opts)
        self.bucket = gcp.storage.Bucket(
            name,
            name=bucket_name,
            project=settings.project,
            location=settings.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"bucket": self.bucket.name})
