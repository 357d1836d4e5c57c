"""EngineConfig: frozen, strict keys with hints, files, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import Field, field_validator

from chainmall.config import EngineConfig, Timezone
from chainmall.exceptions import ChainmallError, ConfigError


class Inner(EngineConfig):
    window_days: int = Field(7, ge=0, description="refund window (days)")


class ShopConfig(EngineConfig):
    monthly_cap_fen: int = Field(5_000_000, ge=0, description="monthly cap (fen)")
    timezone: Timezone = Field("Asia/Shanghai", description="business calendar time zone")
    inner: Inner = Field(default_factory=Inner, description="nested settings")

    @field_validator("monthly_cap_fen")
    @classmethod
    def _whole_yuan(cls, value: int) -> int:
        if value % 100:
            raise ValueError("the cap must be whole yuan (a multiple of 100 fen)")
        return value


def test_defaults_and_frozen() -> None:
    cfg = ShopConfig()
    assert cfg.monthly_cap_fen == 5_000_000
    with pytest.raises(Exception, match="frozen"):
        cfg.monthly_cap_fen = 1  # type: ignore[misc]


def test_unknown_key_suggests_the_closest_field() -> None:
    with pytest.raises(
        ConfigError, match=r"monthly_cap: unknown key; did you mean 'monthly_cap_fen'"
    ):
        ShopConfig(monthly_cap=10)  # type: ignore[call-arg]


def test_unknown_nested_key_is_located() -> None:
    with pytest.raises(
        ConfigError, match=r"- inner\.window_day: unknown key; did you mean 'window_days'"
    ):
        ShopConfig.from_dict({"inner": {"window_day": 3}})


def test_bad_values_raise_config_error_with_location() -> None:
    with pytest.raises(ConfigError, match=r"monthly_cap_fen: .*multiple of 100"):
        ShopConfig(monthly_cap_fen=150)
    with pytest.raises(ConfigError, match="unknown IANA time zone"):
        ShopConfig(timezone="Mars/Olympus")
    with pytest.raises(ChainmallError):
        ShopConfig.model_validate({"monthly_cap_fen": -100})


def test_replace_validates() -> None:
    cfg = ShopConfig().replace(monthly_cap_fen=100)
    assert cfg.monthly_cap_fen == 100
    with pytest.raises(ConfigError):
        ShopConfig().replace(monthly_cap_fen=-1)


def test_from_toml_section_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "shop.toml"
    toml.write_text("[referral]\nmonthly_cap_fen = 100000\n[referral.inner]\nwindow_days = 3\n")
    cfg = ShopConfig.from_file(toml, section="referral")
    assert (cfg.monthly_cap_fen, cfg.inner.window_days) == (100_000, 3)
    js = tmp_path / "shop.json"
    js.write_text(json.dumps(cfg.to_dict()))
    assert ShopConfig.from_file(js) == cfg


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("missing.toml", None, "does not exist"),
        ("shop.yaml", "a: 1", "unsupported suffix"),
        ("broken.toml", "monthly_cap_fen = ", "not valid"),
        ("broken.json", "{", "not valid"),
        ("other.toml", "[pricing]\n", "no section 'referral'"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, text: str | None, message: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        ShopConfig.from_file(path, section="referral" if name == "other.toml" else None)


def test_from_dict_needs_a_mapping() -> None:
    with pytest.raises(ConfigError, match="needs a mapping"):
        ShopConfig.from_dict([1, 2])  # type: ignore[arg-type]


def test_json_schema_carries_descriptions() -> None:
    schema = ShopConfig.json_schema()
    assert schema["properties"]["monthly_cap_fen"]["description"] == "monthly cap (fen)"
    assert schema["additionalProperties"] is False
