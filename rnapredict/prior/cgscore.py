"""Coarse-grained, sequence-blind score of C1′ candidates, learned from train-split decoys.

Issue 24, first stage. A candidate set of one record (same sequence, S candidates) is scored by
a linear model over features that see geometry, not sequence identity:

- C1′–C1′ distance histogram per sequence-separation class (|i − j| ≥ 3, 1 Å bins to 30 Å), per
  residue;
- per-residue coordination histogram (C1′ within 12 Å at |i − j| ≥ 3), per residue (both
  from one pass over the pairs: :func:`histograms`);
- consensus: minus the mean C1′ RMSD (superposed) to the other candidates of the set;
- the free energy of the candidate's secondary structure (ViennaRNA, kcal/mol, negated);
- compactness: minus |ln(Rg / (5.5·L^(1/3)))|;
- helix packing at loops: the angle and end distance of helices that follow each other around
  a loop (:mod:`rnapredict.prior.packing`), binned.

The weights are fitted by ridge regression of the within-target z-scored TM-score on
within-target centred features, over the assembled candidates of train chains ≥ 50 nt
(:mod:`rnapredict.train.cgscore`). Higher score: predicted closer to the native. Only
the order within one record's set is meaningful.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np

from rnapredict.errors import WeightsError

#: File name in the weights directory and its manifest key.
CGSCORE_FILE = "cgscore.safetensors"
MANIFEST_KEY = "cgscore"
FORMAT = "1"


@dataclass(frozen=True)
class CgFeatureConfig:
    """Binning of the geometric features.

    Attributes:
        min_sep: smallest sequence separation |i − j| counted.
        sep_edges: separation classes (class k: edges[k] ≤ |i − j| < edges[k+1], last open).
        max_dist: pairs at least this far apart (Å) are not counted.
        bin_width: distance bin (Å).
        coord_radius: neighbour radius of the coordination histogram (Å).
        coord_max: coordination counts above this share the last bin.
        rg_coef: a in the compact-RNA law Rg ≈ a·L^(1/3) (Å).
        packing: add the helix-packing histogram at loops (:mod:`rnapredict.prior.packing`;
            files written before it existed load with False).
        contacts: add the tertiary-contact features (:mod:`rnapredict.prior.contacts`; files
            written before they existed load with False).
    """

    min_sep: int = 3
    sep_edges: tuple[int, ...] = (3, 4, 5, 7, 10, 16, 32)
    max_dist: float = 30.0
    bin_width: float = 1.0
    coord_radius: float = 12.0
    coord_max: int = 30
    rg_coef: float = 5.5
    packing: bool = True
    contacts: bool = False

    @property
    def n_bins(self) -> int:
        return int(round(self.max_dist / self.bin_width))

    @property
    def n_features(self) -> int:
        n_pair = len(self.sep_edges) * self.n_bins
        return n_pair + self.coord_max + 1 + self.n_packing + self.n_contacts + 3

    @property
    def n_packing(self) -> int:
        from rnapredict.prior.packing import N_FEATURES

        return N_FEATURES if self.packing else 0

    @property
    def n_contacts(self) -> int:
        from rnapredict.prior.contacts import N_FEATURES

        return N_FEATURES if self.contacts else 0


DEFAULT_FEATURES = CgFeatureConfig()


def histograms(
    coords: np.ndarray, cfg: CgFeatureConfig = DEFAULT_FEATURES
) -> tuple[np.ndarray, np.ndarray]:
    """Pair and coordination histograms of [S, L, 3] C1′ coordinates (Å).

    Returns:
        [S, K·D] pair counts per separation class K and distance bin D (|i − j| ≥ min_sep,
        d < max_dist), and [S, coord_max + 1] counts of residues by their number of neighbours
        within ``coord_radius`` at |i − j| ≥ min_sep.
    """
    from scipy.spatial import cKDTree

    x = np.asarray(coords, dtype=np.float64)
    s, n = x.shape[:2]
    size = len(cfg.sep_edges) * cfg.n_bins
    pair, coord = np.zeros((s, size)), np.zeros((s, cfg.coord_max + 1))
    for k, one in enumerate(x):  # pairs within max_dist only: O(L) at compact long L, not O(L²)
        ij = cKDTree(one).query_pairs(cfg.max_dist, output_type="ndarray").astype(np.int64)
        i, j = ij.min(1), ij.max(1)
        keep = j - i >= cfg.min_sep
        i, j = i[keep], j[keep]
        d = np.linalg.norm(one[i] - one[j], axis=-1)
        ok = d < cfg.max_dist
        sep = np.searchsorted(np.asarray(cfg.sep_edges), j[ok] - i[ok], side="right") - 1
        pair[k] = np.bincount(sep * cfg.n_bins + (d[ok] / cfg.bin_width).astype(np.int64),
                              minlength=size)  # fmt: skip
        near = d < cfg.coord_radius
        per_res = np.bincount(i[near], minlength=n) + np.bincount(j[near], minlength=n)
        coord[k] = np.bincount(np.minimum(per_res, cfg.coord_max), minlength=cfg.coord_max + 1)
    return pair, coord


def consensus(coords: np.ndarray) -> np.ndarray:
    """[S] minus the mean superposed C1′ RMSD (Å) of each of [S, L, 3] to the others (0: S = 1)."""
    from rnapredict.score.superpose import superposed_rmsd

    x = np.asarray(coords, dtype=np.float64)
    s = len(x)
    m = np.zeros((s, s))
    for a in range(s):
        for b in range(a + 1, s):
            m[a, b] = m[b, a] = superposed_rmsd(x[a], x[b])
    return -m.sum(1) / max(s - 1, 1)


def ss_energies(seq: str, structures: list[str]) -> np.ndarray:
    """[S] ViennaRNA free energy (kcal/mol) of each dot-bracket for ``seq``."""
    import RNA

    ev = RNA.fold_compound(seq, RNA.md(), RNA.OPTION_EVAL_ONLY)
    return np.array([ev.eval_structure(s) for s in structures], dtype=np.float64)


def geometry_compactness(coords: np.ndarray, cfg: CgFeatureConfig = DEFAULT_FEATURES) -> np.ndarray:
    """[S] minus |ln(Rg / (a·L^(1/3)))| of each of [S, L, 3] C1′ candidates (Å)."""
    from rnapredict.prior.select import compactness_penalty

    return -np.array([compactness_penalty(c, cfg.rg_coef) for c in coords], dtype=np.float64)


def features(
    seq: str, coords: np.ndarray, structures: list[str], cfg: CgFeatureConfig = DEFAULT_FEATURES
) -> np.ndarray:
    """[S, F] features of one record's candidate set: coords [S, L, 3] (Å), ``structures`` [S]."""
    x = np.asarray(coords, dtype=np.float64)
    extra = np.stack([consensus(x), -ss_energies(seq, structures), geometry_compactness(x, cfg)], 1)
    return np.concatenate([geometry_features(x, structures, cfg), extra], 1)


def geometry_features(
    coords: np.ndarray, structures: list[str], cfg: CgFeatureConfig = DEFAULT_FEATURES
) -> np.ndarray:
    """[S, F − 3] per-candidate features of [S, L, 3] C1′ candidates: pair and coordination
    histograms per residue, then (``cfg.packing``) the helix-packing histogram and
    (``cfg.contacts``) the tertiary-contact features of each candidate with its structure."""
    x = np.asarray(coords, dtype=np.float64)
    n = max(x.shape[1], 1)
    pair, coord = histograms(x, cfg)
    parts = [pair / n, coord / n]
    if cfg.packing:
        from rnapredict.prior.packing import packing_histogram

        parts.append(
            np.stack([packing_histogram(c, s) for c, s in zip(x, structures, strict=True)])
        )
    if cfg.contacts:
        from rnapredict.prior.contacts import contact_features

        parts.append(np.stack([contact_features(c, s) for c, s in zip(x, structures, strict=True)]))
    return np.concatenate(parts, 1)


@dataclass(frozen=True)
class CgScore:
    """Fitted linear score: weights [F] over :func:`features` (config ``features``)."""

    weights: np.ndarray
    config: CgFeatureConfig = DEFAULT_FEATURES
    meta: tuple[tuple[str, str], ...] = ()

    def __call__(self, seq: str, coords: np.ndarray, structures: list[str]) -> np.ndarray:
        """[S] scores (higher: predicted closer to the native) of [S, L, 3] candidates."""
        return features(seq, coords, structures, self.config) @ self.weights

    def geometry(self, coords: np.ndarray, ss: str) -> np.ndarray:
        """[S] the per-candidate part of the score of [S, L, 3] C1′ candidates (Å) of one
        structure ``ss``: histograms, packing and compactness, without the set's consensus and
        the structure's free energy (constant for one structure). Only differences within one
        record mean anything; :mod:`rnapredict.prior.search` anneals on it."""
        x = np.asarray(coords, dtype=np.float64)
        geo = geometry_features(x, [ss] * len(x), self.config)
        w = self.weights
        return geo @ w[:-3] + w[-1] * geometry_compactness(x, self.config)

    def to_bytes(self) -> bytes:
        """Deterministic safetensors bytes (weights as float32, config and meta in the header)."""
        from rnapredict.prior.library import _safetensors_bytes

        meta = {"format": FORMAT, "config": json.dumps(asdict(self.config)), **dict(self.meta)}
        return _safetensors_bytes({"weights": self.weights}, meta)

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> CgScore:
        """Inverse of :meth:`to_bytes` (WeightsError when it is not a cgscore file)."""
        from safetensors.numpy import load as st_load

        try:
            w = st_load(data)["weights"].astype(np.float64)
            n = int.from_bytes(data[:8], "little")
            meta = dict(json.loads(data[8 : 8 + n])["__metadata__"])
            cfg = json.loads(meta.pop("config"))
            cfg["sep_edges"] = tuple(cfg["sep_edges"])
            cfg.setdefault("packing", False)
            cfg.setdefault("contacts", False)
            config = CgFeatureConfig(**cfg)
        except Exception as err:  # noqa: BLE001 - any decoding failure is a bad file
            raise WeightsError(f"not a cgscore file: {err}", file=source) from None
        if meta.pop("format", None) != FORMAT or w.shape != (config.n_features,):
            raise WeightsError(f"cgscore format or shape {w.shape} unknown", file=source)
        return cls(w, config, tuple(sorted(meta.items())))


@cache
def default_cgscore() -> CgScore | None:
    """The shipped score, verified against ``manifest.json`` (None when the manifest lists none)."""
    from rnapredict.assets import default_weights_dir, read_asset

    found = read_asset(default_weights_dir(), MANIFEST_KEY)
    return None if found is None else CgScore.from_bytes(found[1], str(found[0]))
