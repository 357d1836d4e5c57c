"""Typed configuration of the 2+1 referral engine (spec §4.1).

Every default is the lawful one. Three settings cross a legal line (spec §2.9,
§4.7): a per-head reward (见点奖), an entry-fee / gift-package rule and gratitude
(感恩) rewards from a former team. Turning one on raises
:class:`~chainmall.exceptions.ComplianceConfigError` unless ``unsafe_allow=True``;
then the choice is recorded in :attr:`ReferralConfig.compliance_overrides`
(copied into every settlement) and a :class:`~chainmall.exceptions.ComplianceWarning`
is emitted. Part 1 of the engine computes none of these rewards: the switches
exist so a shop's intent is validated, recorded and refused by default.
"""

from __future__ import annotations

import itertools
import warnings
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from chainmall.config import EngineConfig, Timezone
from chainmall.exceptions import ComplianceConfigError, ComplianceWarning, ConfigError
from chainmall.referral.payout_tax import TaxConfig
from chainmall.referral.policy import IncentiveConfig

__all__ = [
    "COMPLIANCE_LIMITS",
    "ApprovalConfig",
    "DirectBeneficiary",
    "RateOverride",
    "RateTier",
    "ReferralConfig",
    "SlideMode",
    "WithdrawalConfig",
    "config_or",
]

COMPLIANCE_LIMITS = (
    "max_depth_genealogical",
    "max_beneficiaries_per_line",
    "max_payout_ratio_bp",
    "monthly_cap_fen",
    "cap_refill_on_refund",
)
"""Fields whose bounds are legal limits (spec §2.9 C1, C6, C7): breaking one is a
:class:`~chainmall.exceptions.ComplianceConfigError`."""


class SlideMode(StrEnum):
    """How a non-boss inviter's qualifying invitees are placed on the team tree (R3).

    ``FIRST_N``: invitees 1..N slide to the inviter's boss; the N-th makes the
    inviter a BOSS. ``ONLY_NTH``: invitees before the N-th stay in the inviter's
    team, only the N-th slides. ``ALL_ON_BREAKAWAY``: invitees before the N-th
    stay provisionally; at the N-th all of them slide together with it.
    """

    FIRST_N = "FIRST_N"
    ONLY_NTH = "ONLY_NTH"
    ALL_ON_BREAKAWAY = "ALL_ON_BREAKAWAY"


class DirectBeneficiary(StrEnum):
    """Who earns the direct commission: the original referrer or the team parent."""

    INVITER = "INVITER"
    TEAM_PARENT = "TEAM_PARENT"


class RateTier(EngineConfig):
    """Direct rate for invitees whose rank within their inviter is >= ``min_rank``."""

    min_rank: int = Field(ge=1, description="first invitee rank (1-based) of the tier")
    rate_bp: int = Field(ge=0, le=10_000, description="commission rate in basis points")


class RateOverride(EngineConfig):
    """Commission rates for the lines of one product, one category or one order type.

    Exactly one of ``product_id``, ``category`` and ``order_type`` is set. The
    rates replace the direct tier rate and ``team_rate_bp`` of a matching line
    (0 bp: the line pays no commission, e.g. seckill or gift cards). The most
    specific rule wins: product, then category, then order type.
    """

    product_id: int | str | None = Field(
        default=None, description="the line's product id (same type as the events' ids)"
    )
    category: str | None = Field(default=None, min_length=1, description="the line's category")
    order_type: str | None = Field(
        default=None, min_length=1, description="the order's type, e.g. SECKILL or GIFT_CARD"
    )
    direct_rate_bp: int = Field(ge=0, le=10_000, description="direct rate in basis points")
    team_rate_bp: int = Field(ge=0, le=10_000, description="level-2 (boss) rate in basis points")

    @model_validator(mode="after")
    def _one_match(self) -> RateOverride:
        if sum(v is not None for v in self.match) != 1:
            raise ValueError(
                "a rate override matches exactly one of product_id, category or order_type"
            )
        return self

    @property
    def match(self) -> tuple[int | str | None, str | None, str | None]:
        """``(product_id, category, order_type)``: the one set, the others None."""
        return (self.product_id, self.category, self.order_type)

    @property
    def label(self) -> str:
        """The rule as text, e.g. ``category=GIFT``."""
        name = ("product_id", "category", "order_type")[
            [v is not None for v in self.match].index(True)
        ]
        return f"{name}={getattr(self, name)}"


class WithdrawalConfig(EngineConfig):
    """Rules of the withdrawal workflow (``WITHDRAWAL_REQUESTED`` ...); defaults: none.

    The fee of a request of ``A`` fen is ``fee_fen + floor(A × fee_bp / 10 000)``,
    fixed when the request is accepted and charged at payout.
    """

    min_fen: int = Field(default=0, ge=0, description="smallest amount a request may ask, fen")
    fee_bp: int = Field(
        default=0, ge=0, le=10_000, description="fee in basis points of the requested amount"
    )
    fee_fen: int = Field(default=0, ge=0, description="fixed fee per paid request, fen")
    daily_limit: int = Field(
        default=0, ge=0, description="requests a user may make per local day (0: no limit)"
    )

    def fee_of(self, amount_fen: int) -> int:
        """Fee (fen) of a request of ``amount_fen`` (rounded down)."""
        return self.fee_fen + amount_fen * self.fee_bp // 10_000


class ApprovalConfig(EngineConfig):
    """Approval of settled commissions; default: approved at settlement (no wait).

    ``mode="auto"`` with ``auto_after_days = N > 0``: a settled commission awaits
    approval (not withdrawable) until an operator approves or declines it, or a
    tick at least ``N`` days after its settlement approves it. ``mode="manual"``:
    only an operator decides (``auto_after_days`` must be 0). ``auto`` with 0
    days: a commission is available at settlement, as without approval.
    """

    mode: Literal["auto", "manual"] = Field(
        default="auto", description="auto: approved after auto_after_days; manual: operator"
    )
    auto_after_days: int = Field(
        default=0, ge=0, le=3650, description="days a settled commission awaits approval (auto)"
    )

    @model_validator(mode="after")
    def _manual_has_no_days(self) -> ApprovalConfig:
        if self.mode == "manual" and self.auto_after_days:
            raise ValueError("manual approval waits for an operator: set auto_after_days=0")
        return self

    @property
    def waits(self) -> bool:
        """True when settled commissions await approval (manual, or auto after N > 0 days)."""
        return self.mode == "manual" or self.auto_after_days > 0

    @property
    def auto_after_ns(self) -> int | None:
        """Wait before an automatic approval in ns (None: manual mode)."""
        return None if self.mode == "manual" else self.auto_after_days * 86_400 * 10**9


_DEFAULT_TIERS = (
    RateTier(min_rank=1, rate_bp=2000),
    RateTier(min_rank=4, rate_bp=1500),
    RateTier(min_rank=11, rate_bp=1000),
)


class ReferralConfig(EngineConfig):
    """Parameters of the 2+1 referral engine; money in fen, rates in basis points."""

    config_version: str = Field(
        default="1",
        min_length=1,
        description=(
            "version label snapshotted into every entry and entry id; other versions are "
            "activated by CONFIG_ACTIVATED events (see chainmall.referral.versions)"
        ),
    )
    slide_count: int = Field(
        default=2, ge=1, le=10, description="the '2' of 2+1: qualifying invitees that slide"
    )
    slide_mode: SlideMode = Field(
        default=SlideMode.FIRST_N, description="team placement rule (see SlideMode)"
    )
    breakaway_detach: bool = Field(
        default=True, description="a new BOSS leaves its team (team parent set to none)"
    )
    direct_beneficiary: DirectBeneficiary = Field(
        default=DirectBeneficiary.INVITER,
        description=(
            "INVITER (original referrer) or TEAM_PARENT (team parent at the order, within "
            "max_depth_genealogical inviter steps; see chainmall.referral.rules.r4_rewards)"
        ),
    )
    direct_rate_tiers: tuple[RateTier, ...] = Field(
        default=_DEFAULT_TIERS,
        description="direct rate by invitee rank: tiers sorted by min_rank, first min_rank 1",
    )
    team_rate_bp: int = Field(
        default=500, ge=0, le=10_000, description="level-2 (boss) rate in basis points"
    )
    rate_overrides: tuple[RateOverride, ...] = Field(
        default=(),
        description=(
            "direct and team rates (bp) per product, category or order type; most specific "
            "wins (product > category > order type); direct + team <= max_payout_ratio_bp"
        ),
    )
    max_depth_genealogical: int = Field(
        default=2, ge=1, le=2, description="a team reward needs inviter-tree distance <= this"
    )
    max_beneficiaries_per_line: int = Field(
        default=2, ge=1, le=2, description="at most this many paid beneficiaries per line"
    )
    max_payout_ratio_bp: int = Field(
        default=3000, ge=0, le=10_000, description="per-line cap on all rewards, bp of the base"
    )
    monthly_cap_fen: int = Field(
        default=5_000_000, ge=0, description="per-beneficiary cap per accrual month, in fen"
    )
    cap_refill_on_refund: bool = Field(
        default=False, description="must be false: capped excess is forfeited, never refilled"
    )
    refund_window_days: int = Field(
        default=7, ge=0, le=365, description="days after receipt a buyer may ask for a refund"
    )
    refund_processing_days: int = Field(
        default=7, ge=0, le=365, description="days allowed to process a late refund request"
    )
    timezone: Timezone = Field(
        default="Asia/Shanghai", description="business calendar for accrual months"
    )
    badge_uplift_enabled: bool = Field(
        default=False,
        description="multiply direct commissions by the beneficiary's badge uplift (R4.2)",
    )
    incentives: IncentiveConfig = Field(
        default_factory=IncentiveConfig,
        description="energy points, badges, TCV, partners, dividend (R7-R10)",
    )
    withdrawals: WithdrawalConfig = Field(
        default_factory=WithdrawalConfig,
        description="minimum amount (fen), fee (bp and fen) and daily request limit",
    )
    approval: ApprovalConfig = Field(
        default_factory=ApprovalConfig,
        description="approval of settled commissions (default: none, available at settlement)",
    )
    tax: TaxConfig | None = Field(
        default=None,
        description=(
            "withholding at payout (R12): each paid withdrawal posts a WITHHOLDING entry "
            "computed by this method; None: no withholding in the ledger"
        ),
    )
    per_head_reward_fen: int = Field(
        default=0, ge=0, description="见点奖 per recruited member in fen; unlawful (C3)"
    )
    entry_fee_fen: int = Field(
        default=0, ge=0, description="fee / gift package required to join in fen; unlawful (C4)"
    )
    gratitude_enabled: bool = Field(
        default=False, description="感恩/平级 rewards from a former team; unlawful (C5)"
    )
    unsafe_allow: bool = Field(
        default=False, description="accept the unlawful settings above (recorded, warns)"
    )

    @model_validator(mode="after")
    def _check_rules(self) -> ReferralConfig:
        tiers = self.direct_rate_tiers
        if not tiers or tiers[0].min_rank != 1:
            raise ValueError("direct_rate_tiers must start with a tier of min_rank 1")
        if any(b.min_rank <= a.min_rank for a, b in itertools.pairwise(tiers)):
            raise ValueError("direct_rate_tiers must have strictly increasing min_rank")
        self._check_overrides()
        return self

    def _check_overrides(self) -> None:
        """Each rule's key once; no rule pays more than ``max_payout_ratio_bp`` (C6)."""
        seen: set[tuple[int, Any]] = set()
        for rule in self.rate_overrides:
            if rule.direct_rate_bp + rule.team_rate_bp > self.max_payout_ratio_bp:
                raise ValueError(
                    f"rate_overrides: {rule.label} pays {rule.direct_rate_bp} + "
                    f"{rule.team_rate_bp} bp, above max_payout_ratio_bp="
                    f"{self.max_payout_ratio_bp}; lower its rates (spec §2.9 C6)"
                )
            key = _rule_key(rule)
            if key in seen:
                raise ValueError(
                    f"rate_overrides: {rule.label} is given twice; keep one rule per key"
                )
            seen.add(key)

    @field_validator("cap_refill_on_refund")
    @classmethod
    def _no_refill(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "cap_refill_on_refund=True is not supported: forfeited excess is never refilled"
            )
        return value

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        risky = self.compliance_overrides
        if risky and not self.unsafe_allow:
            raise ComplianceConfigError(
                f"ReferralConfig: {', '.join(risky)} breach the anti-pyramid rules "
                "(spec §2.9 C3-C5: rewards for headcount, entry fees, rewards from a former "
                "team). Remove them, or pass unsafe_allow=True to record an explicit override."
            )
        if risky:
            warnings.warn(
                f"ReferralConfig: unlawful settings enabled with unsafe_allow=True: "
                f"{', '.join(risky)}; they are recorded in every settlement",
                ComplianceWarning,
                stacklevel=2,
            )

    @property
    def compliance_overrides(self) -> tuple[str, ...]:
        """Names of the unlawful settings this config enables (empty by default)."""
        found = []
        if self.per_head_reward_fen:
            found.append("per_head_reward_fen")
        if self.entry_fee_fen:
            found.append("entry_fee_fen")
        if self.gratitude_enabled:
            found.append("gratitude_enabled")
        return tuple(found)

    @property
    def direct_to_team_parent(self) -> bool:
        """True when the direct commission goes to the team parent (R4.2)."""
        return self.direct_beneficiary is DirectBeneficiary.TEAM_PARENT

    @property
    def settle_delay_s(self) -> int:
        """Seconds from receipt to settlement (refund window + processing)."""
        return (self.refund_window_days + self.refund_processing_days) * 86_400

    def checked(self) -> ReferralConfig:
        """This config validated again, as the rules run it (spec §2.9).

        ``model_copy(update=...)``, ``model_construct`` and ``object.__setattr__``
        skip pydantic's validation; every entry point of the rules (``apply``,
        ``fold``, ``settle``, ``ReferralStore.open``) calls this, so a limit broken
        that way is refused there. The unlawful switches (C3-C5) still need
        ``unsafe_allow=True``, and warn again each time.

        Raises:
            ComplianceConfigError: a legal limit (:data:`COMPLIANCE_LIMITS`) or an
                unlawful switch without ``unsafe_allow``.
            ConfigError: any other invalid field.
        """
        try:
            return type(self)(**self.model_dump())
        except ComplianceConfigError:
            raise
        except ConfigError as exc:
            if any(loc and loc[0] in COMPLIANCE_LIMITS for loc, _ in exc.problems):
                raise ComplianceConfigError(
                    f"{exc}\nThis config was changed without validation (model_copy, "
                    "model_construct or attribute assignment) past a legal limit (spec §2.9); "
                    "build it with ReferralConfig(...) or config.replace(...) within the limits"
                ) from None
            raise

    def rate_override(
        self, product_id: Any, category: str | None, order_type: str | None
    ) -> RateOverride | None:
        """The override of a line (most specific first), or None: tiers and team rate apply."""
        rules = self._override_index
        if not rules:
            return None
        for key in ((0, product_id), (1, category), (2, order_type)):
            if key[1] is not None and key in rules:
                return rules[key]
        return None

    @cached_property
    def _override_index(self) -> dict[tuple[int, Any], RateOverride]:
        return {_rule_key(rule): rule for rule in self.rate_overrides}

    def direct_rate_bp(self, rank: int) -> int:
        """Direct commission rate (bp) for an invitee of ``rank`` (1-based)."""
        rate = self.direct_rate_tiers[0].rate_bp
        for tier in self.direct_rate_tiers:
            if rank >= tier.min_rank:
                rate = tier.rate_bp
        return rate


def _rule_key(rule: RateOverride) -> tuple[int, Any]:
    """``(scope, value)``: scope 0 product, 1 category, 2 order type."""
    scope = [v is not None for v in rule.match].index(True)
    return (scope, rule.match[scope])


def config_or(config: object, default: ReferralConfig, name: str = "config") -> ReferralConfig:
    """``config``, or ``default`` where it is None; anything else is a ConfigError."""
    if config is None:
        return default
    if not isinstance(config, ReferralConfig):
        raise ConfigError(f"{name} must be a ReferralConfig or None, got {type(config).__name__}")
    return config
