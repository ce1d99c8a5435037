"""CI for the platform repository, and the OIDC identities CI uses to reach the cluster."""
