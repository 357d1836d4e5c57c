"""Config versions in the batch path: activation log, per-line parameters, cap groups.

The batch counterpart of :mod:`chainmall.referral.versions`. With no accepted
``CONFIG_ACTIVATED`` event, :meth:`LineParams.of` holds the initial config's
scalars, which broadcast like per-line arrays: the default path allocates
nothing per line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from chainmall.referral.accept import Accepted, R, is_open
from chainmall.referral.config import ReferralConfig
from chainmall.referral.energy import uplift_at
from chainmall.referral.events import TYPE_CODE

__all__ = [
    "ActivationLog",
    "LineParams",
    "accept_activations",
    "at",
    "cap_limits",
    "version_codes",
]


@dataclass(frozen=True)
class ActivationLog:
    """Accepted activations in (``effective_at``, ``seq``) order; ``code`` indexes ``labels``.

    ``labels`` are the registry's labels (code 0 = the initial config).
    """

    seq: np.ndarray
    effective_ns: np.ndarray
    code: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.seq)


def accept_activations(
    cols: dict[str, np.ndarray], acc: Accepted, registry: Mapping[str, ReferralConfig]
) -> ActivationLog:
    """Batch: reject activations of unknown versions (``acc.reason``); log the accepted ones."""
    labels = list(registry)
    ev = np.flatnonzero((acc.ev_type == TYPE_CODE["CONFIG_ACTIVATED"]) & is_open(acc.reason))
    rows = acc.ev_start[ev]
    names = cols["month"][rows].tolist()
    known = np.array([name in registry for name in names], dtype=bool).reshape(len(ev))
    acc.reason[ev[~known]] = R["UNKNOWN_VERSION"]
    code = np.array([labels.index(n) for n in names if n in registry], np.int64)
    seq, eff = cols["seq"][rows[known]], cols["ts"][rows[known]]
    order = np.lexsort((seq, eff))
    return ActivationLog(seq[order], eff[order], code.reshape(len(seq))[order], labels)


def version_codes(log: ActivationLog, seq: np.ndarray, ts_ns: np.ndarray) -> np.ndarray:
    """Batch: code of the version in force for events at ``seq`` paid at ``ts_ns``.

    One pass per activation (activations are few): a later one in
    (``effective_at``, ``seq``) order overrides an earlier one where both apply.
    """
    code = np.zeros(len(seq), dtype=np.int64)  # the initial config
    for a_seq, a_eff, a_code in zip(
        log.seq.tolist(), log.effective_ns.tolist(), log.code.tolist(), strict=True
    ):
        code[(seq > a_seq) & (ts_ns >= a_eff)] = a_code
    return code


@dataclass(frozen=True)
class LineParams:
    """Reward parameters per order line: scalars with one version, arrays with several.

    Scalars and per-line arrays broadcast alike in the batch arithmetic, so the
    default path (no accepted activation) allocates nothing per line.
    """

    code: np.ndarray | None
    withdrawal_code: np.ndarray | None
    team_rate_bp: Any
    max_depth: Any
    ratio_bp: Any
    cap_fen: Any
    uplift_on: Any
    configs: tuple[ReferralConfig, ...]

    @classmethod
    def of(
        cls,
        registry: Mapping[str, ReferralConfig],
        code: np.ndarray | None,
        withdrawal_code: np.ndarray | None = None,
    ) -> LineParams:
        """Parameters of lines with version ``code`` (None: every line has the initial config)."""
        configs = tuple(registry.values())
        if code is None:
            config = configs[0]
            return cls(
                None,
                None,
                config.team_rate_bp,
                config.max_depth_genealogical,
                config.max_payout_ratio_bp,
                config.monthly_cap_fen,
                config.badge_uplift_enabled,
                configs,
            )

        def per_line(name: str) -> np.ndarray:
            table = np.array([getattr(c, name) for c in configs], dtype=np.int64)
            values: np.ndarray = table[code]
            return values

        return cls(
            code,
            withdrawal_code,
            per_line("team_rate_bp"),
            per_line("max_depth_genealogical"),
            per_line("max_payout_ratio_bp"),
            per_line("monthly_cap_fen"),
            per_line("badge_uplift_enabled").astype(bool),
            configs,
        )

    def take(self, index: np.ndarray) -> LineParams:
        """The parameters of the lines at ``index`` (withdrawals keep theirs)."""
        if self.code is None:
            return self
        per_line = ("code", "team_rate_bp", "max_depth", "ratio_bp", "cap_fen", "uplift_on")
        return replace(self, **{name: getattr(self, name)[index] for name in per_line})

    def direct_rate_bp(self, rank: np.ndarray) -> np.ndarray:
        """Direct rate (bp) of each line from its buyer's invitee ``rank`` and its version."""
        if self.code is None:
            return _tier_rates(self.configs[0], rank)
        out = np.zeros(len(rank), dtype=np.int64)
        for code, config in enumerate(self.configs):
            mine = self.code == code
            out[mine] = _tier_rates(config, rank[mine])
        return out

    def uplift_bp(
        self, points: dict[str, np.ndarray], user_ids: np.ndarray, seq: np.ndarray
    ) -> np.ndarray:
        """Badge uplift (bp) of each line's direct beneficiary, 0 where its version disables it."""
        if self.code is None:
            return uplift_at(points, user_ids, seq, self.configs[0])
        enabled = [c for c in self.configs if c.badge_uplift_enabled]
        if not enabled:  # badges are structural: any enabled version has the same thresholds
            return np.zeros(len(seq), dtype=np.int64)
        return np.where(self.uplift_on, uplift_at(points, user_ids, seq, enabled[0]), 0)


def at(value: Any, index: np.ndarray) -> Any:
    """A per-line parameter for the lines ``index``: a scalar as is, an array indexed."""
    return value[index] if isinstance(value, np.ndarray) else value


def cap_limits(key: np.ndarray, item_cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item of a (beneficiary, month) ``key``: the smallest cap of its group, and
    whether the group mixes caps (then the cap is applied in ``seq`` order by a loop)."""
    _, inverse = np.unique(key, return_inverse=True)
    size = int(inverse.max()) + 1 if len(key) else 0
    low = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(low, inverse, item_cap)
    np.maximum.at(high, inverse, item_cap)
    return low[inverse], (low != high)[inverse]


def _tier_rates(config: ReferralConfig, rank: np.ndarray) -> np.ndarray:
    tiers = config.direct_rate_tiers
    min_rank = np.array([t.min_rank for t in tiers], dtype=np.int64)
    rates = np.array([t.rate_bp for t in tiers], dtype=np.int32)  # bp fit in int32
    found: np.ndarray = rates[np.maximum(np.searchsorted(min_rank, rank, side="right") - 1, 0)]
    return found
