"""The gcp target: VPC, GKE, Artifact Registry, GCS, Cloud SQL and Workload Identity (extra `mlops-scaffold[gcp]`)."""
