"""Seeded torch layers that leave torch's global random generator alone.

``torch.nn.Linear(...)`` draws its initial weights from the process-wide
generator, so a library that seeds it (``torch.manual_seed``) resets the
caller's random stream, and one that does not is not reproducible. These
helpers create layers uninitialised (``torch.nn.utils.skip_init``, or on the
``meta`` device) and fill
them from the caller's ``torch.Generator`` with torch's default schemes:

* linear: weight ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (Kaiming-uniform with
  ``a = sqrt(5)``), bias the same range;
* LSTM: every parameter ``U(-1/sqrt(hidden), 1/sqrt(hidden))``;
* embedding: weight ``N(0, 1)``, the padding row zero.

torch is imported only when a helper is called.
"""

from __future__ import annotations

import math
from typing import Any

from chainmall._optional import import_optional

__all__ = ["embedding", "linear", "lstm"]


def linear(n_in: int, n_out: int, generator: Any) -> Any:
    """``torch.nn.Linear(n_in, n_out)`` initialised from ``generator``."""
    torch = import_optional("torch", extra="torch")
    layer = torch.nn.utils.skip_init(torch.nn.Linear, n_in, n_out)
    bound = 1.0 / math.sqrt(n_in) if n_in else 0.0
    with torch.no_grad():
        torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def lstm(input_size: int, hidden_size: int, generator: Any) -> Any:
    """``torch.nn.LSTM(input_size, hidden_size, batch_first=True)`` initialised from ``generator``."""
    torch = import_optional("torch", extra="torch")
    # LSTM takes **kwargs, which skip_init refuses: build it on the meta device instead
    meta = torch.nn.LSTM(input_size, hidden_size, batch_first=True, device="meta")
    layer = meta.to_empty(device="cpu")
    bound = 1.0 / math.sqrt(hidden_size)
    with torch.no_grad():
        for weight in layer.parameters():
            torch.nn.init.uniform_(weight, -bound, bound, generator=generator)
    return layer


def embedding(n: int, dim: int, generator: Any, padding_idx: int | None = None) -> Any:
    """``torch.nn.Embedding(n, dim, padding_idx=...)`` initialised from ``generator``."""
    torch = import_optional("torch", extra="torch")
    layer = torch.nn.utils.skip_init(torch.nn.Embedding, n, dim, padding_idx=padding_idx)
    with torch.no_grad():
        torch.nn.init.normal_(layer.weight, generator=generator)
        if padding_idx is not None:
            layer.weight[padding_idx].zero_()
    return layer
