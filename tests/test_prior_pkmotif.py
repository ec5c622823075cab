"""Pseudoknot and kissing-loop instances: sites found in a structure, mined from train chains
only, bounded by the cutoff and self-exclusion, stored losslessly, placed on a real chain."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnapredict.data.cutoff import StructureCutoff, entry_id
from rnapredict.prior.assembly import assemble
from rnapredict.prior.helixgraph import helix_graph
from rnapredict.prior.instances import MotifLibrary
from rnapredict.prior.library import default_library, from_bytes, to_bytes
from rnapredict.prior.natives import load_native_chains
from rnapredict.prior.pkmotif import PAIR_RANGE, hinge, map_strand, pk_sites, pk_stems
from rnapredict.prior.steric import clash_pairs
from tests.conftest import shared_path

HTYPE = "((((((....[[[[[..))))))......]]]]]"
KISS = "((((...[[[[..))))..((((..]]]]...))))"


def shipped() -> MotifLibrary:
    lib = default_library()
    if lib is None or not len(lib.pk):
        pytest.skip("no shipped motif library with pseudoknot instances")
    return lib


def test_sites_classify_htype_and_kissing() -> None:
    seq = "G" * len(HTYPE)
    (h,) = pk_sites(helix_graph(HTYPE), seq)
    assert (h.case, h.anchor5, h.pairs) == ("nested", True, 5)
    # the anchor is the hairpin loop (4 + 5 + 2 unpaired), the other strand the 3' tail
    assert h.lengths == (11, 11) and h.offsets == (4, 6)
    np.testing.assert_array_equal(h.paired(), [10, 11, 12, 13, 14, 29, 30, 31, 32, 33])
    (k,) = pk_sites(helix_graph(KISS), "G" * len(KISS))
    assert (k.case, k.pairs, k.lengths, k.offsets) == ("kissing", 4, (9, 9), (3, 2))
    assert pk_stems(((1, 20), (2, 19), (5, 30))) == [(1, 20, 2), (5, 30, 1)]


def test_map_strand_exact_at_equal_lengths_and_piecewise_otherwise() -> None:
    pts = np.arange(8 * 3, dtype=np.float64).reshape(8, 3)  # 6 unpaired + 2 flanks
    np.testing.assert_allclose(map_strand(pts, 2, 2, 6, 2, 2), pts[1:-1])
    # two more residues before the pseudoknot: the pseudoknot residues still map exactly
    out = map_strand(pts, 2, 2, 8, 4, 2)
    np.testing.assert_allclose(out[4:6], pts[3:5])
    assert np.all(np.diff(out[:, 0]) > 0)  # monotone along the path


def test_hinge_turns_about_pivot() -> None:
    rng = np.random.default_rng(0)
    pts, pivot, target = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=3) * 5
    out = hinge(pts, pivot, pts[2], target)
    np.testing.assert_allclose(  # rigid: distances kept, pivot fixed
        np.linalg.norm(out - pivot, axis=-1), np.linalg.norm(pts - pivot, axis=-1)
    )
    d = out[2] - pivot
    assert np.allclose(d / np.linalg.norm(d), (target - pivot) / np.linalg.norm(target - pivot))


def test_instances_train_only_round_trip_cutoff_and_self_exclusion() -> None:
    lib = shipped()
    pk = lib.pk.instances
    assert len(pk) > 50 and {i.case for i in pk} == {"nested", "kissing"}
    assert all(i.release_date < "2020-01-01" for i in pk)
    back = from_bytes(to_bytes(lib))
    assert [i.id for i in back.pk.instances] == [i.id for i in pk]
    np.testing.assert_allclose(back.pk.instances[0].points[1], pk[0].points[1], atol=1e-4)
    # one cutoff for loops and pseudoknots: date and the query's own entry
    cut = lib.restricted(StructureCutoff.for_record("2010-01-01", "2TPK_A"))
    assert all(i.release_date < "2010-01-01" for i in cut.pk.instances)
    expected = [i for i in pk if i.release_date < "2010-01-01" and entry_id(i.id) != "2TPK"]
    assert 0 < len(cut.pk) == len(expected) < len(pk)
    own = lib.restricted(StructureCutoff.for_record(None, "2TPK"))
    assert any(i.id.startswith("2TPK") for i in pk)
    assert len(own.pk) == len(pk) - sum(1 for i in pk if i.id.startswith("2TPK"))
    assert not any(i.id.startswith("2TPK") for i in lib.without({"2tpk"}).pk.instances)


def test_real_htype_placed_from_another_entry() -> None:
    """2TPK_A (H-type pseudoknot, train, 1998) with its own entry excluded: a mined instance
    lays out the pseudoknot; partners land at native C1′ pair distance, no steric contact,
    no broken backbone step; the same seed gives the same coordinates."""
    lib = shipped().restricted(StructureCutoff.for_record(None, "2TPK_A"))
    chains = load_native_chains(shared_path("data"), ("train",))
    ch = next(c for c in chains if c.id == "2TPK_A")
    pk = np.array(helix_graph(ch.ss).pk_pairs)
    native = np.linalg.norm(ch.coords[pk[:, 0]] - ch.coords[pk[:, 1]], axis=-1)
    assert PAIR_RANGE[0] < native.min() and native.max() < PAIR_RANGE[1]
    (cand,) = assemble(ch.seq, ch.ss, torch.Generator().manual_seed(0), 1, lib)
    assert cand.info["n_pk_placed"] == 1
    used = [i for i in cand.info["instances"] if i["type"].startswith("pseudoknot")]
    assert used and all(i["pdb"] != "2TPK" for i in used)
    d = np.linalg.norm(cand.coords[pk[:, 0]] - cand.coords[pk[:, 1]], axis=-1)
    assert d.min() > 9.0 and d.max() < 12.0, d
    assert not len(clash_pairs(cand.coords))
    assert np.linalg.norm(np.diff(cand.coords, axis=0), axis=-1).max() < 12.0
    (again,) = assemble(ch.seq, ch.ss, torch.Generator().manual_seed(0), 1, lib)
    np.testing.assert_array_equal(again.coords, cand.coords)
