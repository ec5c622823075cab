"""ViennaRNA MFE structures cached by sequence and energy parameters in a JSON file (computed
once per sequence)."""

from __future__ import annotations

import json
from pathlib import Path

from rnapredict.features.secondary import predict_ss
from rnapredict.features.vienna import DEFAULT_CONFIG, ViennaConfig, resolve_energy_params
from rnapredict.io.atomic import atomic_write_text


def cache_key(seq: str, config: ViennaConfig = DEFAULT_CONFIG) -> str:
    """The key of ``seq``'s MFE under ``config``: ``<rule>[/span<N>]:<seq>``, the rule being a
    parameter set or the consensus rule with its votes, refold and base set
    (:func:`~rnapredict.features.vienna.resolve_energy_params`, e.g.
    ``consensus3of4-turner1999``).

    Structures folded with another rule or span limit can never be read back. Bare
    sequence keys (caches written before the key named the parameters) hold Turner 2004
    structures without a span limit and are read only for that setting.
    """
    params = resolve_energy_params(len(seq), config)
    span = config.global_max_bp_span
    if span is not None and config.span_min_len < len(seq) <= config.global_max_len:
        params += f"/span{span}"
    return f"{params}:{seq}"


class SSCache:
    """ViennaRNA MFE by sequence (under ``config``), persisted as JSON (written atomically on
    :meth:`save`)."""

    def __init__(self, path: Path | None, config: ViennaConfig = DEFAULT_CONFIG) -> None:
        self.path = path
        self.config = config
        self.data: dict[str, str] = {}
        self.reload()

    def reload(self) -> None:
        """Merge what the file holds now (another writer may have added entries)."""
        if self.path is not None and self.path.exists():
            self.data.update(json.loads(self.path.read_text()))
        self._n = len(self.data)

    def __call__(self, seq: str) -> str:
        key = cache_key(seq, self.config)
        if key not in self.data:
            legacy = self.data.get(seq) if key == f"turner2004:{seq}" else None
            self.data[key] = legacy if legacy is not None else predict_ss(seq, config=self.config)
        return self.data[key]

    def save(self) -> None:
        if self.path is not None and len(self.data) > self._n:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(self.data, sort_keys=True), overwrite=True)
            self._n = len(self.data)
