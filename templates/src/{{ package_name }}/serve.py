"""HTTP model server: POST /predict, GET /healthz and Prometheus metrics on GET /metrics."""

from __future__ import annotations

import json
import os
import pickle
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from . import SERVER_PORT

REQUESTS = Counter("model_requests_total", "Prediction requests by HTTP status code.", ["code"])
LATENCY = Histogram(
    "model_request_duration_seconds",
    "Time spent answering prediction requests.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
PREDICTIONS = Histogram(
    "model_prediction_score", "Scores returned by the model.", buckets=[i / 10 for i in range(1, 10)]
)
MAX_BODY = 1_000_000


def load_model(path: Path | None = None) -> Any:
    """The pickled model from `make train`, or from $MODEL_PATH."""
    target = path or Path(os.environ.get("MODEL_PATH", "artifacts/model.pkl"))
    if not target.is_file():
        raise SystemExit(f"serve: no model at {target}; run `make train` first, or set MODEL_PATH")
    with target.open("rb") as handle:
        return pickle.load(handle)  # noqa: S301 - our own artifact


def make_handler(model: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, code: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's method name
            if self.path == "/healthz":
                self._reply(200, b'{"status": "ok"}')
            elif self.path == "/metrics":
                self._reply(200, generate_latest(), CONTENT_TYPE_LATEST)
            else:
                self._reply(404, b'{"error": "not found"}')

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/predict":
                self._reply(404, b'{"error": "not found"}')
                return
            start = time.perf_counter()
            code, body = self._predict()
            LATENCY.observe(time.perf_counter() - start)
            REQUESTS.labels(code=str(code)).inc()
            self._reply(code, json.dumps(body).encode())

        def _predict(self) -> tuple[int, dict[str, Any]]:
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                return 400, {"error": f"body must be 1 to {MAX_BODY} bytes of JSON"}
            try:
                instances = np.asarray(json.loads(self.rfile.read(length))["instances"], dtype=float)
                if instances.ndim != 2:
                    raise ValueError("instances must be a list of rows")
                scores = model.predict_proba(instances)
            except (ValueError, KeyError, TypeError) as exc:
                return 400, {"error": str(exc)}
            for score in scores:
                PREDICTIONS.observe(float(score))
            return 200, {"predictions": [float(s) for s in scores]}

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib signature
            return

    return Handler


def main() -> None:
    port = int(os.environ.get("PORT", str(SERVER_PORT)))
    server = ThreadingHTTPServer(("0.0.0.0", port), make_handler(load_model()))  # noqa: S104 - in a container
    print(f"serving on :{port}")
    server.serve_forever()


if __name__ == "__main__":
    main()
