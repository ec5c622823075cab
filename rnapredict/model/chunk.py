"""The one chunking utility: apply a function to slices of a dimension and concatenate."""

from __future__ import annotations

from collections.abc import Callable

import torch


def chunked(
    fn: Callable[..., torch.Tensor],
    tensors: tuple[torch.Tensor, ...],
    chunk_size: int | None,
    dim: int = 1,
    **kwargs: object,
) -> torch.Tensor:
    """``fn(*tensors, **kwargs)`` evaluated on chunks of ``dim`` and concatenated along it.

    Every tensor in ``tensors`` is sliced along ``dim``; ``kwargs`` are passed whole. ``fn`` must
    be independent across positions of ``dim`` (then the result equals the unchunked call).

    Args:
        fn: function returning a tensor whose ``dim`` matches its inputs'.
        tensors: tensors sliced together, all of the same size along ``dim``.
        chunk_size: positions per call; None or ≥ size means one call.
        dim: dimension to chunk.
    """
    size = tensors[0].shape[dim]
    if chunk_size is None or chunk_size >= size:
        return fn(*tensors, **kwargs)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    parts = [
        fn(*(t.narrow(dim, start, min(chunk_size, size - start)) for t in tensors), **kwargs)
        for start in range(0, size, chunk_size)
    ]
    return torch.cat(parts, dim=dim)
