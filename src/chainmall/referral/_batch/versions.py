"""Config versions for a whole log: accepted activations, and reward parameters per line.

Mirrors :mod:`chainmall.referral.versions` (``version_at``) and
``rules.accounts.config_activated``. With no accepted ``CONFIG_ACTIVATED``
event, :class:`LineParams` holds the initial config's scalars, which broadcast
like per-line arrays: the default path allocates nothing per line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from chainmall.referral._batch.r4_overrides import NO_OVERRIDE, line_overrides
from chainmall.referral._batch.tables import Rejected, TextEvents
from chainmall.referral.config import ReferralConfig
from chainmall.referral.frame import EventFrame
from chainmall.referral.reasons import Reason

__all__ = ["Activations", "LineParams", "accept_activations", "at", "cap_limits"]

Param = int | np.ndarray
"""A reward parameter: one value for every line, or one per line."""


@dataclass(frozen=True)
class Activations:
    """Accepted activations in (``effective_at``, ``seq``) order; ``code`` indexes the registry."""

    seq: np.ndarray
    effective_ns: np.ndarray
    code: np.ndarray

    def codes(self, seq: np.ndarray, ts_ns: np.ndarray) -> np.ndarray:
        """Version code of events at ``seq`` paid at ``ts_ns`` (0: the initial config).

        One pass per activation (they are few): a later one in (``effective_at``,
        ``seq``) order overrides an earlier one where both apply.
        """
        code = np.zeros(len(seq), dtype=np.int64)
        for a_seq, a_eff, a_code in zip(
            self.seq.tolist(), self.effective_ns.tolist(), self.code.tolist(), strict=True
        ):
            code[(seq > a_seq) & (ts_ns >= a_eff)] = a_code
        return code


def accept_activations(
    activations: TextEvents, registry: Mapping[str, ReferralConfig]
) -> tuple[Activations, Rejected]:
    """CONFIG_ACTIVATED of a known version label (else ``UNKNOWN_VERSION``)."""
    labels = list(registry)
    known = np.array([label in registry for label in activations.text.tolist()], dtype=bool)
    ok = activations.take(known.reshape(len(activations.ev)))
    code = np.array([labels.index(label) for label in ok.text.tolist()], dtype=np.int64)
    order = np.lexsort((ok.seq, ok.ts))
    accepted = Activations(ok.seq[order], ok.ts[order], code.reshape(len(ok.ev))[order])
    return accepted, Rejected.of(activations.ev[~known], Reason.UNKNOWN_VERSION)


@dataclass(frozen=True)
class LineParams:
    """Reward parameters per order line: scalars with one version, arrays with several."""

    code: np.ndarray | None  # version code per line; None: all lines use the initial config
    team_rate_bp: Param
    max_depth: Param
    ratio_bp: Param
    cap_fen: Param
    uplift_on: Param
    configs: tuple[ReferralConfig, ...]
    direct_override: np.ndarray | None = None  # per line, bp (NO_OVERRIDE: the tiers)
    team_override: np.ndarray | None = None  # per line, bp (NO_OVERRIDE: team_rate_bp)
    rule: np.ndarray | None = None  # per line, override label code (-1: none)

    @classmethod
    def of(cls, registry: Mapping[str, ReferralConfig], code: np.ndarray | None) -> LineParams:
        """Parameters of lines with version ``code`` (None: every line has the initial one)."""
        configs = tuple(registry.values())

        def param(name: str) -> Param:
            if code is None:
                value: int = getattr(configs[0], name)
                return value
            table = np.array([getattr(c, name) for c in configs], dtype=np.int64)
            per_line: np.ndarray = table[code]
            return per_line

        return cls(
            code,
            param("team_rate_bp"),
            param("max_depth_genealogical"),
            param("max_payout_ratio_bp"),
            param("monthly_cap_fen"),
            param("badge_uplift_enabled"),
            configs,
        )

    def overridden(self, frame: EventFrame, row: np.ndarray, order_row: np.ndarray) -> LineParams:
        """These parameters with the rate overrides of the lines at frame ``row``
        (``order_row``: their orders' first rows); unchanged when no version has one."""
        found = line_overrides(frame, row, order_row, self.configs, self.code)
        if found is None:
            return self
        return replace(self, direct_override=found[0], team_override=found[1], rule=found[2])

    def direct_rate_bp(self, rank: np.ndarray) -> np.ndarray:
        """R4.2: direct rate (bp) of each line: its override's, else the tier of its
        buyer's invitee rank in its version."""
        if self.code is None:
            out = _tier_rates(self.configs[0], rank)
        else:
            out = np.zeros(len(rank), dtype=np.int64)
            for code, config in enumerate(self.configs):
                mine = self.code == code
                out[mine] = _tier_rates(config, rank[mine])
        if self.direct_override is None:
            return out
        chosen: np.ndarray = np.where(
            self.direct_override == NO_OVERRIDE, out, self.direct_override
        )
        return chosen

    def team_rate(self) -> Param:
        """R4.3: team rate (bp) of each line: its override's, else ``team_rate_bp``."""
        if self.team_override is None:
            return self.team_rate_bp
        chosen: np.ndarray = np.where(
            self.team_override == NO_OVERRIDE, self.team_rate_bp, self.team_override
        )
        return chosen


def at(value: Param, index: np.ndarray) -> Param:
    """A parameter for the lines ``index``: a scalar as is, an array indexed."""
    return value[index] if isinstance(value, np.ndarray) else value


def cap_limits(key: np.ndarray, item_cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item of a (beneficiary, month) ``key``: the smallest cap of its group, and
    whether the group mixes caps (then the cap is applied in event order by a loop)."""
    _, inverse = np.unique(key, return_inverse=True)
    size = int(inverse.max()) + 1 if len(key) else 0
    low = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(low, inverse, item_cap)
    np.maximum.at(high, inverse, item_cap)
    return low[inverse], (low != high)[inverse]


def _tier_rates(config: ReferralConfig, rank: np.ndarray) -> np.ndarray:
    """Tier rate (bp) of each invitee ``rank``."""
    tiers = config.direct_rate_tiers
    min_rank = np.array([t.min_rank for t in tiers], dtype=np.int64)
    rates = np.array([t.rate_bp for t in tiers], dtype=np.int32)  # bp fit in int32
    found: np.ndarray = rates[np.maximum(np.searchsorted(min_rank, rank, side="right") - 1, 0)]
    return found
