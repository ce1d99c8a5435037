"""The model card `evaluate` writes beside the metrics (markdown and JSON), and `register` attaches
to the MLflow run. Edit KNOWN_LIMITS and the intended use (the spec's description) as the model matures."""

from __future__ import annotations

from typing import Any

KNOWN_LIMITS = [
    "Trained and evaluated on the bundled synthetic data: replace `prepare` with your data before production use.",
    "Metrics are measured on one held-out split; they say nothing about data unlike it (the drift check watches that).",
]


def build(values: dict[str, float], gate: dict[str, float], failures: list[str]) -> dict[str, Any]:
    from . import INTENDED_USE, MODEL_NAME, OWNERS, TEMPLATE_VERSION
    from .lineage import data_hashes
    from .model import FRAMEWORK
    from .params import digest, load

    return {
        "model": MODEL_NAME,
        "intended_use": INTENDED_USE,
        "owners": OWNERS,
        "framework": FRAMEWORK,
        "data": data_hashes(),
        "params_sha256": digest(load()),
        "metrics": {
            name: {"value": value, "gate": gate.get(name), "passed": name not in gate or value >= gate[name]}
            for name, value in sorted(values.items())
        },
        "gate": {"passed": not failures, "failures": failures},
        "known_limits": KNOWN_LIMITS,
        "template_version": TEMPLATE_VERSION,
    }


def markdown(card: dict[str, Any]) -> str:
    owners = ", ".join(card["owners"]) or "(no owners in mlops.yaml)"
    verdict = "passed" if card["gate"]["passed"] else "failed: " + "; ".join(card["gate"]["failures"])
    lines = [
        f"# Model card: {card['model']}",
        "",
        f"- **Intended use:** {card['intended_use']}",
        f"- **Owners:** {owners}",
        f"- **Framework:** {card['framework']}",
        f"- **Data:** sha256 `{card['data'].get('sha256', '-')}`, DVC `{card['data'].get('dvc_md5', '-')}`",
        f"- **Parameters:** sha256 `{card['params_sha256']}`",
        f"- **Gate:** {verdict}",
        "",
        "| metric | value | gate | passed |",
        "|---|---|---|---|",
    ]
    for name, metric in card["metrics"].items():
        low = "-" if metric["gate"] is None else f">= {metric['gate']}"
        lines.append(f"| {name} | {metric['value']:.4f} | {low} | {'yes' if metric['passed'] else 'no'} |")
    lines += ["", "## Known limits", "", *[f"- {limit}" for limit in card["known_limits"]], ""]
    return "\n".join(lines)
