"""How often proposed pseudoknot pairs (:mod:`rnapredict.prior.pkpairs`) are the native ones.

    python -m bench.pkpairs [--splits train,validation] [--min-pairs 5] [--max-energy -5]

For every chain of ``../shared/data`` (≤ ``--max-len`` nt): proposals on (1) the native
structure less its pseudoknotted pairs (does the proposer find the pseudoknot when the nested
level is right?) and (2) the ViennaRNA MFE (what the fold path sees). Pair precision and
recall against the native pseudoknotted pairs (a pair matches within ±1 on both sides), over
chains with a native pseudoknot; and the share of chains without one that get a proposal.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.assembly import REPO
from rnapredict.features.secondary import predict_ss
from rnapredict.geometry.aform import layout_pairs
from rnapredict.io.secondary import pair_list, pairs_from_list, to_dot_bracket
from rnapredict.prior.natives import load_native_chains
from rnapredict.prior.pkpairs import PkPairsConfig, pk_pair_set, propose_pk, score_proposals


def nested(ss: str) -> str:
    """``ss`` less its pseudoknotted pairs."""
    return to_dot_bracket(pairs_from_list(len(ss), pair_list(layout_pairs(ss))))


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--splits", default="train,validation")
    p.add_argument("--max-len", type=int, default=400)
    p.add_argument("--min-pairs", type=int, default=PkPairsConfig().min_pairs)
    p.add_argument("--max-energy", type=float, default=PkPairsConfig().max_energy)
    a = p.parse_args(argv)
    cfg = PkPairsConfig(min_pairs=a.min_pairs, max_energy=a.max_energy)
    t0 = time.time()
    chains = [
        c for c in load_native_chains(a.data, tuple(a.splits.split(",")))
        if len(c.seq) <= a.max_len
    ]  # fmt: skip
    out: dict = {}
    for mode in ("native-nested", "mfe"):
        tp = found = n_pro = n_nat = 0
        fp_chains = neg = pos_hit = pos = 0
        for c in chains:
            base = nested(c.ss) if mode == "native-nested" else predict_ss(c.seq)
            pro = {pr for s in propose_pk(c.seq, base, cfg) for pr in s.pairs()}
            nat = pk_pair_set(c.ss)
            if nat:
                pos += 1
                a_tp, a_found = score_proposals(nat, pro)
                tp, found, n_pro, n_nat = (
                    tp + a_tp,
                    found + a_found,
                    n_pro + len(pro),
                    n_nat + len(nat),
                )
                pos_hit += a_found > 0
            else:
                neg += 1
                fp_chains += bool(pro)
        out[mode] = {
            "chains_with_pk": pos,
            "pair_precision": tp / max(n_pro, 1),
            "pair_recall": found / max(n_nat, 1),
            "chains_pk_found": pos_hit,
            "chains_without_pk": neg,
            "share_without_pk_proposed": fp_chains / max(neg, 1),
        }
        print(mode, {k: round(v, 3) if isinstance(v, float) else v for k, v in out[mode].items()})
    print(f"{time.time() - t0:.1f} s")
    return out


if __name__ == "__main__":
    main()
