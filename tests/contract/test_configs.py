"""Every engine config refuses malformed values with a ConfigError naming the field,
and every corrupt or hostile config file raises ConfigError (never another exception)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from chainmall.config import EngineConfig
from chainmall.exceptions import ConfigError
from chainmall.segment import RFMLConfig
from tests.contract.registry import ENGINES, public_objects
from tests.contract.runner import CONFIG_COUNTS

MALFORMED: tuple[tuple[str, Any, bool], ...] = (
    # (label, value, must be refused whatever the field's type)
    ("nan", float("nan"), True),
    ("inf", float("inf"), True),
    ("-inf", float("-inf"), True),
    ("text", "x", False),
    ("none", None, False),
    ("list", [1, [2]], False),
    ("dict", {"a": 1}, False),
    ("negative", -1, False),
    ("huge", 10**30, False),
    ("bool", True, False),
    ("nested", [[[[[[[[[[1]]]]]]]]]], False),
)
EXAMPLES: dict[str, dict[str, Any]] = {
    "SegmentRule": {"name": "All", "r": (1, 5), "fm": (1, 5)},
    "RateTier": {"min_rank": 1, "rate_bp": 2000},
    "Badge": {"name": "BRONZE", "min_points": 1000, "uplift_bp": 100},
    "RateOverride": {"category": "GIFT_CARD", "direct_rate_bp": 0, "team_rate_bp": 0},
}


def _configs() -> list[type[EngineConfig]]:
    found: dict[str, type[EngineConfig]] = {}
    for engine in ENGINES:
        for name, obj in public_objects(engine.public()).items():
            if isinstance(obj, type) and issubclass(obj, EngineConfig):
                found[f"{engine.name}.{name}"] = obj
    return [found[key] for key in sorted(found)]


CONFIGS = _configs()


@pytest.mark.parametrize("cls", CONFIGS, ids=[c.__name__ for c in CONFIGS])
def test_malformed_field_values(cls: type[EngineConfig]) -> None:
    base = EXAMPLES.get(cls.__name__, {})
    cls(**base)  # the valid config
    problems = []
    for field in cls.model_fields:
        for label, value, refuse in MALFORMED:
            CONFIG_COUNTS["tried"] += 1
            try:
                cls(**{**base, field: value})
            except ConfigError as exc:
                CONFIG_COUNTS["refused"] += 1
                if field not in str(exc):
                    problems.append(f"{field}={label}: message does not name it: {exc}")
            except Exception as exc:
                problems.append(f"{field}={label}: {type(exc).__name__}: {exc}")
            else:
                CONFIG_COUNTS["accepted"] += 1
                if refuse:
                    problems.append(f"{field}={label}: accepted")
    assert not problems, "\n".join(problems)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _symlink_loop(tmp_path: Path) -> Path:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    os.symlink(b, a)
    os.symlink(a, b)
    return a


HOSTILE = {
    "non_utf8_toml": lambda p: _write(p, "c.toml", b'timezone = "\xff\xfe"\n'),
    "non_utf8_json": lambda p: _write(p, "c.json", b'{"timezone": "\xff"}'),
    "deep_json": lambda p: _write(p, "c.json", b"[" * 200_000 + b"]" * 200_000),
    "deep_toml": lambda p: _write(p, "c.toml", b"a = " + b"[" * 200_000 + b"]" * 200_000),
    "duplicate_key": lambda p: _write(p, "c.json", b'{"bins": 5, "bins": 7}'),
    "nan_constant": lambda p: _write(p, "c.json", b'{"bins": NaN}'),
    "top_level_list": lambda p: _write(p, "c.json", b"[1, 2]"),
    "empty_json": lambda p: _write(p, "c.json", b""),
    "binary": lambda p: _write(p, "c.toml", bytes(range(256))),
    "folder": lambda p: (p / "d.toml").mkdir() or p / "d.toml",
    "missing": lambda p: p / "missing.toml",
    "symlink_loop": _symlink_loop,
    "yaml": lambda p: _write(p, "c.yaml", b"bins: 5"),
    "unknown_key": lambda p: _write(p, "c.json", b'{"binz": 5}'),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_config_files_raise_config_error(tmp_path: Path, kind: str) -> None:
    path = HOSTILE[kind](tmp_path)
    with pytest.raises(ConfigError) as caught:
        RFMLConfig.from_file(path)
    assert str(path.name) in str(caught.value) or "binz" in str(caught.value)
