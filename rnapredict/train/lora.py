"""Low-rank adapters (LoRA, Hu et al. 2021) for fine-tuning released weights.

Each targeted ``nn.Linear`` (weight W [out, in]) becomes a :class:`LoraLinear` computing
``x Wᵀ + b + (alpha / rank) · (x Aᵀ) Bᵀ`` with A [rank, in] (Linear-style kaiming-uniform init)
and B [out, rank] (zeros), so a freshly adapted network computes exactly what the base did.
Every base parameter is frozen; only A and B train. :func:`merge_lora` folds
``W + (alpha / rank) · B A`` back into plain ``nn.Linear`` modules, giving a state dict with
exactly the base model's keys, which the unchanged inference engine loads.

Default targets: every ``nn.Linear`` inside the trunk, the denoiser and the confidence head
(attention q/kv/out/gate, edge bias and value projections, transitions, input projections and
the pLDDT/pTM outputs). The distogram and torsion heads are left out: they only feed training
losses and never change a prediction. ``alpha`` defaults to ``rank`` (scale 1, the LoRA paper's
habit of fixing alpha at the first rank tried); pass ``--lora-alpha`` to change the scale.

Fine-tune the released model and export merged weights::

    python -m rnapredict.train --config small --out runs/ft --init-from weights --lora-rank 8
    python -m rnapredict.train --config small --out runs/ft --resume      # LoRA comes back
    python -m rnapredict.train.export --run runs/ft --out weights_ft

``--lora-alpha 16`` sets the scale alpha / rank. Checkpoints hold the full state dict
(base tensors plus ``*.lora_A`` / ``*.lora_B``); ``state.json`` records the LoRA settings and the
sha256 of the ``--init-from`` weights, and export writes the merged base-format weights with
``"lora": {"rank", "alpha", "init_from"}`` in the manifest.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

DEFAULT_TARGETS = ("trunk.*", "denoiser.*", "confidence.*")


@dataclass(frozen=True)
class LoraConfig:
    """LoRA settings.

    Attributes:
        rank: r, the adapter rank (≥ 1).
        alpha: scale numerator; the update is scaled by alpha / rank. None: alpha = rank.
        dropout: dropout on the adapter input (0 keeps training bitwise reproducible; > 0 draws
            from the global RNG, which checkpoints do not store).
        targets: ``fnmatch`` patterns over qualified module names (``trunk.encoder.0.0.q``);
            an ``nn.Linear`` matching any of them is adapted.
    """

    rank: int
    alpha: float | None = None
    dropout: float = 0.0
    targets: tuple[str, ...] = DEFAULT_TARGETS

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError(f"LoRA rank must be >= 1, got {self.rank}")
        if self.alpha is not None and not self.alpha > 0:
            raise ValueError(f"LoRA alpha must be > 0, got {self.alpha}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LoRA dropout must be in [0, 1), got {self.dropout}")

    @property
    def scale(self) -> float:
        """alpha / rank."""
        return (self.alpha if self.alpha is not None else self.rank) / self.rank

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings with alpha resolved (what ``state.json`` stores)."""
        d = dataclasses.asdict(self)
        d["alpha"] = float(self.alpha if self.alpha is not None else self.rank)
        d["targets"] = list(self.targets)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoraConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(
            rank=int(d["rank"]),
            alpha=float(d["alpha"]) if d.get("alpha") is not None else None,
            dropout=float(d.get("dropout", 0.0)),
            targets=tuple(d.get("targets", DEFAULT_TARGETS)),
        )


class LoraLinear(nn.Module):
    """A frozen linear layer plus a trainable rank-r update.

    Keeps the wrapped layer's ``weight`` / ``bias`` under the same names, so the state dict is
    the base one plus ``lora_A`` [r, in] and ``lora_B`` [out, r].
    """

    def __init__(
        self,
        base: nn.Linear,
        rank: int,
        scale: float,
        dropout: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = base.in_features, base.out_features
        self.rank, self.scale = rank, scale
        self.weight = base.weight
        self.bias = base.bias
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)
        w = base.weight
        bound = 1.0 / math.sqrt(self.in_features)  # nn.Linear's kaiming_uniform(a=√5) bound
        u = torch.rand(rank, self.in_features, generator=generator, dtype=w.dtype)
        self.lora_A = nn.Parameter(((2 * u - 1) * bound).to(w.device))
        self.lora_B = nn.Parameter(
            torch.zeros(self.out_features, rank, dtype=w.dtype, device=w.device)
        )
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., in] → [..., out]."""
        low = F.linear(F.linear(self.drop(x), self.lora_A), self.lora_B)
        return F.linear(x, self.weight, self.bias) + self.scale * low

    def delta(self) -> torch.Tensor:
        """The weight update scale · B A: [out, in]."""
        return self.scale * (self.lora_B @ self.lora_A)

    def merged(self) -> nn.Linear:
        """A plain ``nn.Linear`` with W + scale · B A (same dtype and device)."""
        lin = nn.Linear(
            self.in_features,
            self.out_features,
            bias=self.bias is not None,
            device=self.weight.device,
            dtype=self.weight.dtype,
        )
        with torch.no_grad():
            lin.weight.copy_(self.weight + self.delta())
            if self.bias is not None:
                lin.bias.copy_(self.bias)
        return lin

    def extra_repr(self) -> str:
        return (
            f"in={self.in_features}, out={self.out_features}, rank={self.rank}, scale={self.scale}"
        )


def _set_child(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, attr = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, attr, module)


def target_names(net: nn.Module, cfg: LoraConfig) -> list[str]:
    """Qualified names of the ``nn.Linear`` modules that ``cfg.targets`` selects."""
    return [
        name
        for name, m in net.named_modules()
        if type(m) is nn.Linear and any(fnmatchcase(name, p) for p in cfg.targets)
    ]


def apply_lora(
    net: nn.Module, cfg: LoraConfig, generator: torch.Generator | None = None
) -> list[str]:
    """Wrap the targeted linear layers in place and freeze every other parameter.

    ``generator`` draws the A matrices (None: the global RNG). Returns the wrapped names.
    Raises ValueError when ``net`` already carries adapters or nothing matches.
    """
    if any(isinstance(m, LoraLinear) for m in net.modules()):
        raise ValueError("network already carries LoRA adapters")
    names = target_names(net, cfg)
    if not names:
        raise ValueError(f"no nn.Linear matches the LoRA targets {list(cfg.targets)}")
    for p in net.parameters():
        p.requires_grad_(False)
    for name in names:
        base = net.get_submodule(name)
        assert isinstance(base, nn.Linear)
        _set_child(net, name, LoraLinear(base, cfg.rank, cfg.scale, cfg.dropout, generator))
    return names


def merge_lora(net: nn.Module) -> nn.Module:
    """Fold every adapter into a plain ``nn.Linear`` in place; returns ``net``.

    The result's state dict has exactly the base model's keys (and order).
    """
    names = [n for n, m in net.named_modules() if isinstance(m, LoraLinear)]
    for name in names:
        m = net.get_submodule(name)
        assert isinstance(m, LoraLinear)
        _set_child(net, name, m.merged())
    return net


def lora_state(net: nn.Module) -> dict[str, torch.Tensor]:
    """Only the adapter tensors (``*.lora_A`` [r, in], ``*.lora_B`` [out, r]), detached."""
    return {
        k: v.detach().clone()
        for k, v in net.state_dict().items()
        if k.endswith((".lora_A", ".lora_B"))
    }


def trainable_parameters(net: nn.Module) -> list[nn.Parameter]:
    """Parameters with ``requires_grad`` (all of them when no adapters were applied)."""
    return [p for p in net.parameters() if p.requires_grad]


def merged_state(
    net: nn.Module, cfg: LoraConfig, tensors: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Base-format state dict from an adapted state dict.

    ``net``: a freshly built base network of the right config (consumed: adapted, loaded with
    ``tensors`` strictly, merged).
    """
    apply_lora(net, cfg, torch.Generator().manual_seed(0))  # A is overwritten by the load
    net.load_state_dict(tensors, strict=True)
    merge_lora(net)
    return {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}
