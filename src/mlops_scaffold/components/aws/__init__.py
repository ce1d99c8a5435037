"""The aws target: VPC, EKS, ECR, S3, RDS and IAM for the platform (extra `mlops-scaffold[aws]`)."""
