"""The legal boundary: which features may feed the list price, which only benefits.

Chinese rules (PIPL Art. 24; Algorithmic Recommendation Provisions Art. 21; Consumer
Protection Law Implementing Regulations Art. 9; Internet Platform Price Conduct Rules)
forbid setting an individual's price from their spend, price sensitivity or
willingness to pay. So every feature is declared with a **group** (``user``,
``product``, ``market``) and a **layer**:

* ``list_price`` — may shape the list price, which depends on product, region, time
  and market state only and is the same for everyone at a given time and place;
* ``benefit_only`` — may only drive published benefits (tier, coupons) below it.

A user-level feature can never be list-price eligible. Some features are blocked
outright, in any layer: age, gender, occupation, consumption level, sensitive personal
data and their obvious stand-ins (device type, phone model, operating system).
Matching is on lower-cased name tokens, so ``age60`` and ``user_device_type`` are
refused too: rename an aggregate (e.g. a store's share of over-60s) only if it is
genuinely not a personal attribute, and say so in your own records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

from chainmall.exceptions import ComplianceConfigError, DataValidationError

__all__ = [
    "BLOCKED_TOKENS",
    "DEFAULT_CATALOG",
    "FeatureCatalog",
    "FeatureSpec",
    "blocked_reason",
]

Group = Literal["user", "product", "market"]
Layer = Literal["list_price", "benefit_only"]

BLOCKED_TOKENS: Mapping[str, str] = MappingProxyType(
    {
        "age": "age",
        "birthday": "age",
        "birth": "age",
        "gender": "sex",
        "sex": "sex",
        "occupation": "occupation",
        "job": "occupation",
        "income": "consumption level",
        "wealth": "consumption level",
        "consumption": "consumption level",
        "device": "device type (stand-in for consumption level)",
        "phone": "device type (stand-in for consumption level)",
        "iphone": "device type (stand-in for consumption level)",
        "os": "device type (stand-in for consumption level)",
        "ethnicity": "sensitive personal data",
        "ethnic": "sensitive personal data",
        "religion": "sensitive personal data",
        "health": "sensitive personal data",
        "biometric": "sensitive personal data",
        "location": "precise location (sensitive personal data)",
        "gps": "precise location (sensitive personal data)",
    }
)
"""Name tokens refused in any layer, with the protected attribute they reveal."""

_TOKEN = re.compile(r"[a-z]+")
_GROUPS: tuple[str, ...] = get_args(Group)
_LAYERS: tuple[str, ...] = get_args(Layer)


def blocked_reason(name: str) -> str | None:
    """The protected attribute ``name`` reveals, or ``None`` if it is not blocked."""
    if not isinstance(name, str):
        raise DataValidationError(
            f"name must be a feature or column name (str), got {type(name).__name__} {name!r}"
        )
    for token in _TOKEN.findall(name.lower()):
        if token in BLOCKED_TOKENS:
            return BLOCKED_TOKENS[token]
    return None


@dataclass(frozen=True)
class FeatureSpec:
    """One declared feature: its factor group and the layer it may feed."""

    name: str
    group: Group
    layer: Layer
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ComplianceConfigError(f"name must be a non-empty string, got {self.name!r}")
        for field, allowed in (("group", _GROUPS), ("layer", _LAYERS)):
            if getattr(self, field) not in allowed:
                raise ComplianceConfigError(
                    f"{field} must be one of {allowed}, got {getattr(self, field)!r}"
                )
        reason = blocked_reason(self.name)
        if reason is not None:
            raise ComplianceConfigError(
                f"feature {self.name!r} is blocked in every layer: it reveals {reason}. "
                "Remove it; pricing may not use age, sex, occupation, consumption level, "
                "sensitive personal data or stand-ins such as device type"
            )
        if self.group == "user" and self.layer == "list_price":
            raise ComplianceConfigError(
                f"feature {self.name!r} is user-level and cannot be list-price eligible; "
                "declare it layer='benefit_only' (published benefits) or aggregate it to "
                "the market and declare the aggregate as a 'market' feature"
            )


@dataclass(frozen=True)
class FeatureCatalog:
    """The declared features and their layers; checks what each layer may use."""

    specs: tuple[FeatureSpec, ...]

    def __post_init__(self) -> None:
        strange = [s for s in self.specs if not isinstance(s, FeatureSpec)]
        if strange:
            raise ComplianceConfigError(
                f"specs must be FeatureSpec declarations, got {type(strange[0]).__name__}"
            )
        names = [s.name for s in self.specs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ComplianceConfigError(f"features declared twice: {dupes}; declare each once")

    def with_features(self, specs: Iterable[FeatureSpec]) -> FeatureCatalog:
        """A catalogue with ``specs`` added (later declarations must be new names)."""
        return FeatureCatalog((*self.specs, *specs))

    def spec(self, name: str) -> FeatureSpec:
        """The declaration of ``name``; unknown or blocked names are refused."""
        for spec in self.specs:
            if spec.name == name:
                return spec
        reason = blocked_reason(name)
        if reason is not None:
            raise ComplianceConfigError(
                f"feature {name!r} is blocked in every layer: it reveals {reason}; remove it"
            )
        raise ComplianceConfigError(
            f"feature {name!r} is not declared; declare it with FeatureSpec(name, group, "
            "layer) so its legal layer is explicit"
        )

    def require_list_price(self, names: Iterable[str]) -> None:
        """Refuse any name that may not shape the list price (user-level, benefit-only, blocked)."""
        refused: list[str] = []
        for name in names:
            spec = self.spec(name)
            if spec.layer != "list_price":
                refused.append(f"{name!r} ({spec.group}, {spec.layer})")
        if refused:
            raise ComplianceConfigError(
                f"{len(refused)} feature(s) may not feed the list price: {', '.join(refused[:5])}. "
                "The list price depends on product, region, time and market state only "
                "(PIPL Art. 24, Platform Price Conduct Rules); use them in the benefits layer "
                "or aggregate them to the market"
            )

    def require_benefit(self, names: Iterable[str]) -> None:
        """Refuse undeclared or blocked names as benefit inputs (any declared layer is fine)."""
        for name in names:
            self.spec(name)


def _specs(group: Group, layer: Layer, names: Mapping[str, str]) -> tuple[FeatureSpec, ...]:
    return tuple(FeatureSpec(n, group, layer, d) for n, d in names.items())


DEFAULT_CATALOG = FeatureCatalog(
    _specs(
        "user",
        "benefit_only",
        {
            "user_spend_history": "a user's spend over the look-back window (fen)",
            "user_repurchase_cycle": "a user's median days between orders",
            "user_price_sensitivity": "a user's response to past discounts",
            "membership_tier": "published membership tier",
            "is_new_user": "first order in the shop (bool)",
            "rfml_segment": "published RFM-L segment",
            "quantity": "units on the order line",
        },
    )
    + _specs(
        "product",
        "list_price",
        {
            "log_price": "log of own list price (the only own-price feature)",
            "product_code": "product identifier as a category code",
            "inventory_turnover": "units sold per unit of stock, per week",
            "margin": "(price - cost) / price at the reference price",
            "lag_log_price": "log own price in the previous observed period",
            "lead_log_price": "log own price planned for the next period",
            "lag_gap": "periods since the previous observation",
            "ref_log_price": "median log own price in the training history",
        },
    )
    + _specs(
        "market",
        "list_price",
        {
            "feat": "own feature advertisement (promotion calendar)",
            "deal": "own in-store deal (promotion calendar)",
            "week_of_year": "season (week of year)",
            "store_product_mean": "training mean of log units of the store x product",
            "store_product_std": "training std of log units of the store x product",
            "store_product_regular_mean": "training mean of log units without promotion",
            "store_mean": "training mean of log units of the store (region effect)",
            "seasonal_lag_log_units": "training log units of the store x product a season ago",
            "season_sin": "sin(2 pi week / season length)",
            "season_cos": "cos(2 pi week / season length)",
            "comp_min_log_price": "lowest competitor log price in the market",
            "comp_feat_count": "number of competitors with a feature ad",
        },
    )
)
"""The features of the source paper's three groups plus those the OJ builder makes.

Competitor columns made by :class:`~chainmall.pricing.features.DemandFeatureBuilder`
(``comp_log_price__*``, ``comp_feat__*``, ``comp_deal__*``) are declared by the builder.
"""
