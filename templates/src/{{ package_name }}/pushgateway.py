"""Push metrics of batch jobs (training, drift) to the platform's Prometheus Pushgateway."""

from __future__ import annotations

import os
import urllib.parse


def push(job: str, grouping: dict[str, str], text: str) -> bool:
    """PUT `text` (Prometheus exposition format) under job/grouping; False when PUSHGATEWAY_URL is unset."""
    gateway = os.environ.get("PUSHGATEWAY_URL")
    if not gateway:
        return False
    from prometheus_client.exposition import default_handler

    path = "".join(f"/{k}/{urllib.parse.quote(v, safe='')}" for k, v in grouping.items())
    url = f"{gateway.rstrip('/')}/metrics/job/{urllib.parse.quote(job, safe='')}{path}"
    default_handler(url, "PUT", 10, [("Content-Type", "text/plain; version=0.0.4")], text.encode())()
    return True


def training_success(model: str, timestamp: float) -> str:
    """The gauge behind the model staleness alert: when the model last trained and passed its gate."""
    return (
        "# HELP model_training_last_success_timestamp_seconds When the model last trained and passed its gate.\n"
        "# TYPE model_training_last_success_timestamp_seconds gauge\n"
        + 'model_training_last_success_timestamp_seconds{model="'
        + model
        + f'"}} {timestamp:.3f}\n'
    )
