"""Exponential moving average of the weights (AF3 keeps one with decay 0.999)."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from safetensors.torch import load_file

from rnapredict.model.network import RnaFoldNet

EMA_FILE = "ema.safetensors"


def _snapshot(net: RnaFoldNet) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


class EmaWeights:
    """EMA of a network's state dict; warm-up decay min(decay, (1 + n) / (10 + n)).

    Floating-point tensors are averaged; integer buffers are copied.
    """

    def __init__(self, net: RnaFoldNet, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.shadow = _snapshot(net)

    def update(self, net: RnaFoldNet) -> None:
        """Fold the current weights into the average (call after each optimizer step)."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            for k, v in net.state_dict().items():
                s = self.shadow[k]
                if s.is_floating_point():
                    s.lerp_(v.detach(), 1.0 - d)
                else:
                    s.copy_(v)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The averaged weights plus the update count (for checkpoints)."""
        out = {k: v.detach().cpu().contiguous().clone() for k, v in self.shadow.items()}
        out["__ema_updates__"] = torch.tensor([self.updates], dtype=torch.int64)
        return out

    def load(self, ckpt: Path, net: RnaFoldNet) -> None:
        """Restore from ``ckpt/ema.safetensors``; without one, start from the current weights."""
        path = ckpt / EMA_FILE
        if not path.exists():
            self.shadow = _snapshot(net)
            self.updates = 0
            return
        t = load_file(str(path))
        self.updates = int(t.pop("__ema_updates__")[0])
        want = net.state_dict()
        if t.keys() != want.keys() or any(t[k].shape != want[k].shape for k in want):
            raise SystemExit(f"{path}: EMA weights do not match the model; cannot resume")
        self.shadow = t

    def averaged(self, net: RnaFoldNet) -> RnaFoldNet:
        """A copy of ``net`` carrying the averaged weights."""
        twin = copy.deepcopy(net)
        twin.load_state_dict(self.shadow)
        return twin
