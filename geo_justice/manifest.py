"""Run manifests: what any exported figure was computed from, so it can be reproduced and cited."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from typing import Any

from layers.catalog import Dataset

from . import __version__


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def run_manifest(dataset: Dataset, command: str, parameters: dict[str, Any],
                 people: dict[str, Any] | None = None) -> dict[str, Any]:
    """Data versions (content hashes), every parameter with its value, software version and time; `people`
    says which year's people the head counts are of (year, label, warnings)."""
    manifest = {
        "software": {"name": "geo-justice", "version": __version__},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "dataset": {"name": dataset.name, "version": dataset.version, "layers": dict(sorted(dataset.versions.items()))},
        "parameters": _plain(parameters),
    }
    if people is not None:
        manifest["population"] = people
    return manifest


def manifest_json(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"
