"""``compliance_report(config)``: what each referral parameter means in law (spec §2.9, §4.7).

One row per parameter: its value and default, the invariant (C1-C9) it
implements, the article of the Regulations on Prohibition of Pyramid Selling
(禁止传销条例, Art. 7) or other rule it touches, why the default is what it is,
and a status: ``ok`` (the lawful default or stricter), ``review`` (a lawful but
riskier choice), ``unlawful`` (allowed only with ``unsafe_allow``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from chainmall.referral.config import ReferralConfig, config_or

__all__ = ["compliance_report"]

_ART7_1 = "禁止传销条例 Art. 7(1): rewards for recruiting (拉人头)"
_ART7_2 = "禁止传销条例 Art. 7(2): entry fees / disguised fees (入门费)"
_ART7_3 = "禁止传销条例 Art. 7(3): rewards from the downline's sales (团队计酬)"

# (parameter path, invariant, article, meaning, why the default, status rule)
_RULES: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "max_depth_genealogical",
        "C1",
        _ART7_3 + "; 2013 opinion; WeChat 2016",
        "order rewards reach at most this many inviter-tree steps above the buyer",
        "2 levels is the common reading of the 3-level line; 1 is the strict WeChat one",
        "le2",
    ),
    (
        "max_beneficiaries_per_line",
        "C1",
        _ART7_3,
        "distinct paid beneficiaries per order line",
        "at most 2 (direct + one team reward), never compressed upward",
        "le2",
    ),
    (
        "team_rate_bp",
        "C1/C6",
        _ART7_3,
        "level-2 (boss) rate on the net goods amount",
        "500 bp placeholder: a team reward is the 团队计酬 element; keep it small",
        "le500",
    ),
    (
        "max_payout_ratio_bp",
        "C6",
        "直销条例 Art. 24 benchmark [U]",
        "cap on all rewards of a line, share of its net base",
        "30% mirrors the direct-selling commission ceiling",
        "le3000",
    ),
    (
        "monthly_cap_fen",
        "C7",
        "paper; practice (commission_max)",
        "per-beneficiary credit per accrual month; excess forfeited",
        "50,000 yuan bounds the pull of a single earner",
        "le5000000",
    ),
    (
        "per_head_reward_fen",
        "C3",
        _ART7_1,
        "a reward per recruited member (见点奖)",
        "0: any headcount reward is the recruiting element of Art. 7(1)",
        "zero",
    ),
    (
        "entry_fee_fen",
        "C4",
        _ART7_2,
        "fee or package needed to join",
        "0: membership comes from any paid goods order",
        "zero",
    ),
    (
        "gratitude_enabled",
        "C5",
        _ART7_3 + "; 2013 opinion",
        "感恩/平级 rewards to a former boss from the team that broke away",
        "off: levels are counted through a formal departure",
        "false",
    ),
    (
        "refund_window_days",
        "C9",
        "消费者权益保护法 Art. 25 (7-day return)",
        "days after receipt before a commission may settle",
        "7 days: the statutory window",
        "ge7",
    ),
    (
        "badge_uplift_enabled",
        "C4/§4.7 #7",
        "WeChat 2019 (induced sharing); " + _ART7_2,
        "energy badges multiply the direct commission (+1/+3/+5%)",
        "off: points stay non-cash unless the shop opts in; then capped at +5% and by C6/C7",
        "review_if_true",
    ),
    (
        "incentives.share_points",
        "§4.7 #7",
        "WeChat 外部链接内容管理规范 (no rewards for sharing)",
        "points per share; 0 on no_point_channels",
        "50 points, 0 on WeChat",
        "ok",
    ),
    (
        "incentives.repurchase_min_fen",
        "C4/§4.7 #4",
        _ART7_2 + " (变相交纳费用)",
        "monthly purchase that keeps TCV from decaying",
        "affects only the non-monetary TCV: cash is never purchase-conditioned",
        "ok",
    ),
    (
        "incentives.tcv_decay_bp",
        "§4.7 #4",
        _ART7_2,
        "monthly TCV decay without a repurchase",
        "30% (paper); non-monetary",
        "ok",
    ),
    (
        "incentives.tcv_depth",
        "C1/§4.7 #6",
        _ART7_1 + "; " + _ART7_3,
        "inviter-tree depth of the TCV subtree; GMV and activity only",
        "2: no depth or headcount term",
        "le2",
    ),
    (
        "incentives.partner_repurchase_count",
        "C5/§4.7 #2",
        _ART7_3,
        "settled team repurchases that make a PARTNER (status only)",
        "3 (paper); confers no downline-derived reward",
        "ok",
    ),
    (
        "incentives.dividend_enabled",
        "§4.7 #6",
        _ART7_3,
        "top-TCV dividend from a fixed platform budget",
        "off: TCV is downline GMV, so a dividend is close to 团队计酬",
        "review_if_true",
    ),
    (
        "slide_count",
        "§4.7 #1",
        _ART7_1,
        "invitees that slide (the '2' of 2+1)",
        "2: only team labels; no earning ever requires recruiting",
        "ok",
    ),
)


def _get(config: ReferralConfig, path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _status(rule: str, value: Any) -> str:
    if rule in ("zero", "false"):
        return "ok" if not value else "unlawful"
    if rule == "review_if_true":
        return "review" if value else "ok"
    limits = {"le2": 2, "le500": 500, "le3000": 3_000, "le5000000": 5_000_000}
    if rule in limits:
        return "ok" if value <= limits[rule] else "review"
    if rule == "ge7":
        return "ok" if value >= 7 else "review"
    return "ok"


def compliance_report(config: ReferralConfig | None = None) -> pd.DataFrame:
    """One row per legally relevant parameter of ``config`` (see the module docstring).

    Returns:
        ``parameter, value, default, invariant, legal_basis, meaning, default_reason,
        status``.
    """
    config = config_or(config, ReferralConfig())
    default = ReferralConfig()
    rows = [
        {
            "parameter": path,
            "value": _get(config, path),
            "default": _get(default, path),
            "invariant": inv,
            "legal_basis": art,
            "meaning": meaning,
            "default_reason": why,
            "status": _status(rule, _get(config, path)),
        }
        for path, inv, art, meaning, why, rule in _RULES
    ]
    return pd.DataFrame(rows)
