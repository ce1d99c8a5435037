"""Names of gcp identities that code outside the gcp extra needs (no pulumi_gcp import here)."""

from __future__ import annotations

import hashlib


def ci_account_id(project: str) -> str:
    """A service account id (6-30 characters) for a project's CI, unique even for long names."""
    account = f"ci-{project}"
    if len(account) <= 30:
        return account
    return f"ci-{project[:21].rstrip('-')}-{hashlib.sha256(project.encode()).hexdigest()[:6]}"
