"""Fleet: template status and `copier update` across many repositories, without losing anyone's edits."""

from mlops_scaffold.fleet.status import RepoStatus, fleet_status
from mlops_scaffold.fleet.update import RepoResult, UpdateOptions, update_fleet

__all__ = ["RepoResult", "RepoStatus", "UpdateOptions", "fleet_status", "update_fleet"]
