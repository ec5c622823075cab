"""bench.accuracy --structure: the chains' own nested structures replace the MFE."""

from __future__ import annotations

import numpy as np
import pytest

from bench.accuracy import nested, with_native_structures
from bench.targets import Target
from rnapredict.data import default_data_dir
from rnapredict.io.secondary import pair_list, parse_dot_bracket


def test_nested_drops_pseudoknot_brackets() -> None:
    assert nested("((.[[..))..]]") == "((.....))...."
    assert nested("(<)>") == "(.)."


def test_native_structures_by_chain() -> None:
    data = default_data_dir()
    if not data.is_dir():
        pytest.skip("../shared/data absent")
    from rnapredict.prior.natives import load_native_chains

    chains = load_native_chains(data, splits=("validation",))[:6]
    targets = [Target(c.id, c.seq, "." * len(c.seq), c.coords, None, "c1") for c in chains]
    odd = Target(
        "XXXX_A",
        chains[0].seq[:-1],
        "." * (len(chains[0].seq) - 1),
        chains[0].coords[:-1],
        None,
        "c1",
    )
    got = with_native_structures([*targets, odd], data, "validation")
    for t, c in zip(got, chains, strict=False):
        assert t.ss == nested(c.ss) and len(t.ss) == len(t.seq)
        pairs = pair_list(parse_dot_bracket(t.ss))  # balanced, nested
        assert all(t.ss[i] == "(" and t.ss[j] == ")" for i, j in pairs)
    assert sum(len(pair_list(parse_dot_bracket(t.ss))) for t in got[:-1]) > 0
    assert got[-1].ss == odd.ss  # unknown chain: the MFE stays
    assert np.array_equal(got[0].c1, chains[0].coords)
