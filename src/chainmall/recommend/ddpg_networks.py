"""Torch modules of the DDPG recommender (imported only when torch is available).

State (DRR-ave): with ``E_in`` the state embedding of items, ``u`` the mean of
``E_in`` over the user's last ``history_len`` positives and ``r`` the mean over
the last ``recent_len``, ``s = [u, r, u ⊙ r, step / n_steps]``.
Actor: ``a = MLP(s) ∈ R^{d+2}``; item scores ``(1 + a[d+1]) z_i + a[:d+1] · E_out[i]``
where ``z`` are the user's base-model (EASE) scores z-scored over items and
``E_out`` holds the item embeddings plus a bias column: a learned residual on
top of the base. The head's last layer starts at zero, so the untrained actor
scores exactly like the base. Critic: ``Q(s, a) = MLP([s, a])``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from chainmall._torch_init import embedding, linear

__all__ = ["Actor", "Critic", "StateEncoder"]


class StateEncoder(nn.Module):
    """DRR-ave state from padded item indices (padding index = ``n_items``)."""

    def __init__(self, item_init: Tensor, recent_len: int, generator: Any) -> None:
        super().__init__()
        n_items, dim = item_init.shape
        weight = torch.cat([item_init, torch.zeros(1, dim)], dim=0)
        self.items = embedding(n_items + 1, dim, generator, padding_idx=n_items)
        with torch.no_grad():
            self.items.weight.copy_(weight)
        self.n_items = n_items
        self.recent_len = recent_len
        self.out_dim = 3 * dim + 1

    def forward(self, positives: Tensor, step: Tensor) -> Tensor:
        """``positives``: (batch, history_len) indices, most recent last; ``step``: (batch,)."""
        mask = (positives < self.n_items).float()
        vectors = self.items(positives)
        user = (vectors * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        rv, rm = vectors[:, -self.recent_len :], mask[:, -self.recent_len :]
        recent = (rv * rm[..., None]).sum(1) / rm.sum(1, keepdim=True).clamp(min=1.0)
        return torch.cat([user, recent, user * recent, step[:, None]], dim=1)


class Actor(nn.Module):
    """State → scoring vector in item-embedding space (+ bias weight)."""

    def __init__(
        self, item_init: Tensor, item_bias: Tensor, recent_len: int, hidden: int, generator: Any
    ) -> None:
        super().__init__()
        dim = item_init.shape[1]
        self.encoder = StateEncoder(item_init, recent_len, generator)
        self.head = nn.Sequential(
            linear(self.encoder.out_dim, hidden, generator),
            nn.ReLU(),
            linear(hidden, dim + 2, generator),
        )
        last = self.head[-1]
        assert isinstance(last, nn.Linear)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.item_out = nn.Parameter(torch.cat([item_init, item_bias[:, None]], dim=1).clone())

    def forward(self, state: Tensor) -> Tensor:
        """Action (scoring vector) of encoded states."""
        action: Tensor = self.head(state)
        return action

    def logits(self, action: Tensor, base: Tensor) -> Tensor:
        """Item scores of actions given the users' z-scored base scores: (batch, n_items)."""
        return (1.0 + action[:, -1:]) * base + action[:, :-1] @ self.item_out.T


class Critic(nn.Module):
    """Q(s, a) for encoded states and actions."""

    def __init__(self, state_dim: int, action_dim: int, hidden: int, generator: Any) -> None:
        super().__init__()
        self.net = nn.Sequential(
            linear(state_dim + action_dim, hidden, generator),
            nn.ReLU(),
            linear(hidden, hidden, generator),
            nn.ReLU(),
            linear(hidden, 1, generator),
        )

    def forward(self, state: Tensor, action: Tensor) -> Tensor:
        """Q-values, shape (batch,)."""
        q: Tensor = self.net(torch.cat([state, action], dim=1))
        return q.squeeze(1)
