"""ViennaRNA MFE structures cached by sequence in a JSON file (computed once per sequence)."""

from __future__ import annotations

import json
from pathlib import Path

from rnapredict.features.secondary import predict_ss
from rnapredict.io.atomic import atomic_write_text


class SSCache:
    """ViennaRNA MFE by sequence, persisted as JSON (written atomically on :meth:`save`)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, str] = {}
        self.reload()

    def reload(self) -> None:
        """Merge what the file holds now (another writer may have added entries)."""
        if self.path is not None and self.path.exists():
            self.data.update(json.loads(self.path.read_text()))
        self._n = len(self.data)

    def __call__(self, seq: str) -> str:
        if seq not in self.data:
            self.data[seq] = predict_ss(seq)
        return self.data[seq]

    def save(self) -> None:
        if self.path is not None and len(self.data) > self._n:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(self.data, sort_keys=True), overwrite=True)
            self._n = len(self.data)
