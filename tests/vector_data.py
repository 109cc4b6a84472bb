"""The published test vectors (tests/vectors/*.json), for parametrising tests at collection time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"


def load_vectors(name: str) -> list[dict[str, Any]]:
    """The ``vectors`` list of ``tests/vectors/<name>.json``."""
    with open(VECTORS / f"{name}.json", encoding="utf-8") as handle:
        vectors: list[dict[str, Any]] = json.load(handle)["vectors"]
    return vectors
