"""A programme's row: created on first open with its configs, checked on every later one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from chainmall.exceptions import ConfigError
from chainmall.referral.config import ReferralConfig
from chainmall.referral.store import schema
from chainmall.referral.store.mapping import dumps
from chainmall.referral.store.tree import Frontier
from chainmall.referral.versions import version_registry

__all__ = ["id_kinds", "registered"]


def registered(
    conn: Connection,
    programme: str,
    config: ReferralConfig | None,
    versions: Mapping[str, ReferralConfig] | None,
) -> dict[str, ReferralConfig]:
    """The programme's configs by label (creating the programme on first open).

    Raises:
        ConfigError: no such programme and no config to create it; a config other
            than the stored one; a version label stored with another config.
        ComplianceConfigError: a config breaks a legal limit.
    """
    t = schema.programmes
    row = conn.execute(select(t).where(t.c.programme_id == programme)).first()
    if row is None:
        if config is None:
            raise ConfigError(
                f"programme {programme!r} does not exist yet; pass its config to create it"
            )
        registry = version_registry(config, versions)
        conn.execute(
            insert(t).values(
                programme_id=programme,
                config=config.model_dump_json(),
                versions=_versions_json(registry),
                id_kinds="{}",
                created_at=datetime.now(UTC),
            )
        )
        conn.execute(insert(schema.heads).values(programme_id=programme, **_empty_head()))
        return registry
    stored = ReferralConfig.model_validate_json(row.config)
    if config is not None and config != stored:
        raise ConfigError(
            f"programme {programme!r} was created with another config; a programme's "
            "rules change only by CONFIG_ACTIVATED versions (pass them as versions=...)"
        )
    known = {
        label: ReferralConfig.model_validate(data)
        for label, data in json.loads(row.versions).items()
    }
    for label, other in (versions or {}).items():
        if label in known and known[label] != other:
            raise ConfigError(
                f"version {label!r} of programme {programme!r} is stored with another "
                "config; give a changed config a new label"
            )
    registry = version_registry(stored, {**known, **dict(versions or {})})
    if len(registry) > len(known) + 1:
        conn.execute(
            update(t).where(t.c.programme_id == programme).values(versions=_versions_json(registry))
        )
    return registry


def id_kinds(conn: Connection, programme: str) -> dict[str, str]:
    """The stored type (``int`` or ``text``) of each kind of id the programme has seen."""
    t = schema.programmes
    kinds: dict[str, str] = json.loads(
        conn.execute(select(t.c.id_kinds).where(t.c.programme_id == programme)).scalar_one()
    )
    return kinds


def _versions_json(registry: dict[str, ReferralConfig]) -> str:
    """The non-initial versions as JSON (label -> config)."""
    others = list(registry.items())[1:]
    return dumps({label: cfg.model_dump(mode="json") for label, cfg in others})


def _empty_head() -> dict[str, Any]:
    return {
        "last_seq": None,
        "last_tick_ns": None,
        "n_entries": 0,
        "n_relations": 0,
        "n_points": 0,
        "n_activations": 0,
        "frontier": "[]",
        "root": Frontier().root().hex(),
        "token": uuid.uuid4().hex,
    }
