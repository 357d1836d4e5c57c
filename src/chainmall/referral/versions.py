"""Config versions (spec §4.0, §4.6 "Config change mid-month"): ``ConfigActivated``.

The caller gives the initial :class:`ReferralConfig` and the other versions by
label (``versions={"2": cfg2}``). A ``CONFIG_ACTIVATED(version, effective_at)``
event naming a known label is accepted (else rejected ``UNKNOWN_VERSION``).

Resolution: an order line (and every entry derived from it: reward, ``CAPPED``,
``BLOCKED_DEPTH``, later ``SETTLE`` / ``REVERSAL`` / ``CLAWBACK``) uses the
version of the accepted activation with ``seq`` below the order's and
``effective_at <=`` the order's paid time, the latest ``effective_at`` winning
(ties: the larger ``seq``); none: the initial config. A ``WITHDRAWAL`` entry
takes the version resolved the same way at its own event. The version label is
snapshotted in each entry's ``config_version`` and content-hash id.

Only the reward parameters may change between versions (:data:`VERSIONED_FIELDS`);
every other field shapes state that outlives an order (team tree, settlement
timing, points, compliance switches) and must be equal across versions: a shop
changes those by starting a new programme.
"""

from __future__ import annotations

from collections.abc import Mapping

from chainmall.exceptions import ConfigError
from chainmall.referral.config import ReferralConfig

__all__ = ["VERSIONED_FIELDS", "version_at", "version_registry"]

VERSIONED_FIELDS = (
    "config_version",
    "direct_rate_tiers",
    "team_rate_bp",
    "rate_overrides",
    "max_depth_genealogical",
    "max_payout_ratio_bp",
    "monthly_cap_fen",
    "badge_uplift_enabled",
)
"""Fields that may differ between versions; all others must be equal."""


def version_registry(
    config: ReferralConfig, versions: Mapping[str, ReferralConfig] | None
) -> dict[str, ReferralConfig]:
    """All configs by version label, validated: the initial first, then the others sorted.

    The position of a label in this order is its code in the batch arrays.

    Every config is validated again (:meth:`ReferralConfig.checked`): a copy made
    without validation cannot carry a broken legal limit into the rules.

    Raises:
        ComplianceConfigError: a config breaks a legal limit (see ``checked``).
        ConfigError: a key differs from its config's ``config_version``, a label
            maps to two different configs, or a field outside
            :data:`VERSIONED_FIELDS` differs from the initial config.
    """
    if not isinstance(config, ReferralConfig):
        raise ConfigError(f"config must be a ReferralConfig, got {type(config).__name__}")
    if versions is not None and not isinstance(versions, Mapping):
        raise ConfigError(
            f"versions must be a mapping of version labels to ReferralConfig (or None), got "
            f"{type(versions).__name__}"
        )
    config.checked()
    registry = {config.config_version: config}
    for label, other in sorted((versions or {}).items()):
        if not isinstance(other, ReferralConfig):
            raise ConfigError(
                f"versions[{label!r}] must be a ReferralConfig, got {type(other).__name__}"
            )
        other.checked()
        if label != other.config_version:
            raise ConfigError(
                f"versions key {label!r} differs from its config_version "
                f"{other.config_version!r}; key each config by its own config_version"
            )
        if label == config.config_version and other != config:
            raise ConfigError(
                f"version {label!r} is both the initial config and a different entry of "
                "versions; give each version its own config_version"
            )
        changed = [
            name
            for name in type(config).model_fields
            if name not in VERSIONED_FIELDS and getattr(other, name) != getattr(config, name)
        ]
        if changed:
            raise ConfigError(
                f"version {label!r} changes {', '.join(changed)}, which must equal the initial "
                f"config's (only {', '.join(VERSIONED_FIELDS[1:])} may change by version); "
                "start a new programme to change the others"
            )
        registry[label] = other
    return registry


def version_at(activations: list[tuple[int, int, str]], ts_ns: int, initial: str) -> str:
    """Fold: the version in force at paid time ``ts_ns`` (UTC ns).

    ``activations`` are the accepted ``(effective_at_ns, seq, label)`` so far (all
    with a smaller ``seq`` than the event asking).
    """
    best: tuple[int, int, str] | None = None
    for activation in activations:
        if activation[0] <= ts_ns and (best is None or activation[:2] > best[:2]):
            best = activation
    return initial if best is None else best[2]
