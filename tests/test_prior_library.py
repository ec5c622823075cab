"""Motif library: mined from train natives only, deterministic, exclusions honoured, round-trips;
assembling a train chain with a library that contains it reproduces it, one without does not."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from rnapredict.errors import OutputExistsError, WeightsError
from rnapredict.io.secondary import parse_dot_bracket
from rnapredict.io.structure import RnaStructure
from rnapredict.prior.assembly import assemble
from rnapredict.prior.library import (
    build_library,
    default_library,
    from_chains,
    load_library,
    save_library,
    to_bytes,
)
from rnapredict.prior.natives import NativeChain, infer_pairs_c1, load_native_chains
from rnapredict.score.api import ScoreOptions, score_structures
from tests.conftest import shared_path

OPTS = ScoreOptions(atom="C1'", align="index", interactions=False, clashes=False)


@pytest.fixture(scope="module")
def natives() -> list[NativeChain]:
    return load_native_chains(shared_path("data"), ("train", "validation"))


def by_id(chains: list[NativeChain], cid: str) -> NativeChain:
    return next(c for c in chains if c.id == cid)


def tm(xyz: np.ndarray, ch: NativeChain) -> float:
    def s(x: np.ndarray) -> RnaStructure:
        return RnaStructure.from_residues(ch.seq, [{"C1'": p} for p in x])

    return float(score_structures(s(xyz), s(ch.coords), OPTS).tm.tm_ref)


def test_train_only_deterministic_and_exclusions(natives: list[NativeChain]) -> None:
    lib = from_chains(natives)
    assert len(lib) > 1000
    assert to_bytes(lib) == to_bytes(from_chains(natives))
    assert all(i.release_date < "2020-01-01" for i in lib.instances)
    val_ids = {c.id for c in natives if c.split == "validation"}
    assert val_ids and not val_ids & {i.id for i in lib.instances}
    kinds = {i.kind for i in lib.instances}
    assert kinds == {"hairpin", "internal", "junction", "exterior"}
    # Leaving out a chain or a whole entry removes exactly its instances.
    assert any(i.id == "4KQY_A" for i in lib.instances)
    ex = from_chains(natives, {"4kqy_a", "1EHZ"})
    assert not any(i.id == "4KQY_A" or i.id.startswith("1EHZ_") for i in ex.instances)
    assert to_bytes(ex) == to_bytes(lib.without({"4KQY_A", "1ehz"}))


def test_build_library_from_data_dir(natives: list[NativeChain]) -> None:
    built = build_library(shared_path("data"), exclude_ids={"4KQY_A"})
    assert to_bytes(built) == to_bytes(from_chains(natives, {"4KQY_A"}))


def test_save_load_round_trip(natives: list[NativeChain], tmp_path: Path) -> None:
    lib = from_chains([c for c in natives if c.id < "2"])
    path = tmp_path / "lib.safetensors"
    save_library(lib, path)
    with pytest.raises(OutputExistsError):
        save_library(lib, path)  # never clobbered silently
    back = load_library(path)
    assert back.instances == lib.instances
    for a, b in zip(lib.geoms, back.geoms, strict=True):
        np.testing.assert_allclose(a.transforms, b.transforms, atol=1e-4)
        for sa, sb in zip(a.strands, b.strands, strict=True):
            np.testing.assert_allclose(sa, sb, atol=1e-4)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(pickle.dumps({"instances": []}))
    with pytest.raises(WeightsError):
        load_library(bad)


def test_shipped_library_is_reproducible(natives: list[NativeChain]) -> None:
    """weights/motif_library.safetensors (sha256 checked against the manifest on load) is
    what mining ../shared/data gives: the same instances, provenance and metadata, and the same
    geometry to float32 rounding (BLAS builds differ in the last bits of near-zero rotation
    entries: 1e-13 Å seen between numpy releases, so bytes are not compared)."""
    lib = default_library()
    if lib is None:
        pytest.skip("no shipped motif library")
    new = from_chains(natives)
    assert lib.meta == new.meta
    rows = [(i.kind, i.lengths, i.seq, i.id, i.residues, i.release_date) for i in lib.instances]
    assert rows == [
        (i.kind, i.lengths, i.seq, i.id, i.residues, i.release_date) for i in new.instances
    ]
    np.testing.assert_allclose(
        [i.fit_rmsd for i in lib.instances], [i.fit_rmsd for i in new.instances], atol=1e-4
    )
    for g, h in zip(lib.geoms, new.geoms, strict=True):
        np.testing.assert_allclose(g.transforms, h.transforms, atol=1e-4)
        for p, q in zip(g.strands, h.strands, strict=True):
            np.testing.assert_allclose(p, q, atol=1e-4)


def test_reproduces_itself_but_not_without_its_family(natives: list[NativeChain]) -> None:
    """Honesty check: a library containing 4KQY_A (119 nt, 3-way junction) rebuilds it from
    its native SS; without it (no other member of its family is in the data) it does not."""
    ch = by_id(natives, "4KQY_A")
    lib = from_chains(natives)
    inside = assemble(ch.seq, ch.ss, torch.Generator().manual_seed(0), 1, lib)[0]
    outside = assemble(ch.seq, ch.ss, torch.Generator().manual_seed(0), 1, lib.without({ch.id}))[0]
    tm_in, tm_out = tm(inside.coords, ch), tm(outside.coords, ch)
    assert tm_in > 0.8
    assert tm_out < tm_in - 0.3
    assert any(i["pdb"] == "4KQY" for i in inside.info["instances"])
    assert not any(i["pdb"] == "4KQY" for i in outside.info["instances"])


def test_pairs_inferred_from_c1_match_annotation(natives: list[NativeChain]) -> None:
    """c1 chains without a PDB annotation get pairs from C1′ geometry: on allatom chains the
    inference agrees with the base-pair annotator (mean F1 ≥ 0.9)."""
    f1 = []
    for c in natives:
        if c.ss_source == "annotated" and c.ss.count("(") >= 4:
            p = parse_dot_bracket(c.ss)
            q = parse_dot_bracket(infer_pairs_c1(c.seq, c.coords))
            a = {(i, int(j)) for i, j in enumerate(p) if j > i}
            b = {(i, int(j)) for i, j in enumerate(q) if j > i}
            f1.append(2 * len(a & b) / (len(a) + len(b)))
    assert len(f1) > 50 and np.mean(f1) >= 0.9
