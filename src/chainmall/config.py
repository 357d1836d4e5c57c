"""Typed engine configuration.

Every engine has one config class derived from :class:`EngineConfig`: a frozen
pydantic model that rejects unknown keys (with a "did you mean" hint), documents
each field with units, loads from dicts, TOML or JSON, and exports JSON Schema.

Example::

    cfg = ReferralConfig.from_file("shop.toml", section="referral")
    cfg.replace(monthly_cap_fen=1_000_000)   # validated copy
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from chainmall._storage import parse_json
from chainmall.exceptions import ConfigError

__all__ = ["EngineConfig", "Timezone"]


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown IANA time zone {name!r}; use a name such as 'Asia/Shanghai' or 'UTC'"
        ) from exc
    return name


Timezone = Annotated[str, AfterValidator(_check_timezone)]
"""An IANA time-zone name, checked against the system's zone database."""


def _field_names(model: type[BaseModel]) -> set[str]:
    """Names of ``model``'s fields and of every nested config's fields."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _field_names(annotation)
    return names


Problem = tuple[tuple[str | int, ...], str]


def _problems(model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    """(location, text) per error; a nested config's problems keep their full location."""
    known = sorted(_field_names(model))
    found: list[Problem] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        inner = err.get("ctx", {}).get("error")
        if isinstance(inner, ConfigError) and inner.problems:
            found += [(loc + sub_loc, text) for sub_loc, text in inner.problems]
        elif err["type"] == "extra_forbidden":
            key = str(loc[-1])
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            found.append((loc, f"unknown key{hint}"))
        else:
            found.append((loc, f"{err['msg']} (got {err.get('input')!r})"))
    return found


def _read_config_file(path: Path) -> Any:
    """Parsed TOML/JSON of ``path``; every failure is a ConfigError naming the file."""
    if path.suffix not in (".toml", ".json"):
        raise ConfigError(
            f"config file {str(path)!r}: unsupported suffix {path.suffix!r}; use .toml or .json"
        )
    try:
        text = path.read_bytes().decode("utf-8")
        return tomllib.loads(text) if path.suffix == ".toml" else parse_json(text)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except OSError as exc:  # a folder, a symlink loop, no permission
        raise ConfigError(f"config file {str(path)!r} cannot be read: {exc}") from None
    except (ValueError, RecursionError) as exc:  # bad UTF-8, bad syntax, nesting too deep
        raise ConfigError(
            f"config file {str(path)!r} is not valid: {type(exc).__name__}: {exc}; "
            "fix the file (UTF-8 TOML or JSON)"
        ) from None


def _config_error(model: type[BaseModel], problems: list[Problem]) -> ConfigError:
    lines = [f"invalid {model.__name__}: {len(problems)} problem(s)"]
    lines += [f"  - {'.'.join(map(str, loc)) or '(config)'}: {text}" for loc, text in problems]
    error = ConfigError("\n".join(lines))
    error.problems = tuple(problems)
    return error


class EngineConfig(BaseModel):
    """Base of every engine's configuration: frozen, strict about keys, documented.

    Subclasses declare fields with ``Field(description=...)`` naming the unit.
    Invalid values raise :class:`~chainmall.exceptions.ConfigError`; NaN and
    infinity are refused for every float field.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(type(self), _problems(type(self), exc)) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        # pydantic routes validation through the __init__ above, which may raise
        # inside its validator: unwrap so the caller sees one flat ConfigError.
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _config_error(cls, _problems(cls, exc)) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a config from a mapping (e.g. parsed TOML/JSON)."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{cls.__name__} needs a mapping, got {type(data).__name__}")
        return cls.model_validate(dict(data))

    @classmethod
    def from_file(cls, path: str | Path, *, section: str | None = None) -> Self:
        """Load a config from a ``.toml`` or ``.json`` file (UTF-8), optionally one table of it.

        JSON is parsed strictly: a repeated key or a NaN/Infinity constant is an error.
        Every problem with the file raises :class:`~chainmall.exceptions.ConfigError`.
        """
        data = _read_config_file(Path(path))
        if section is not None:
            if not isinstance(data, dict) or section not in data:
                found = sorted(data) if isinstance(data, dict) else []
                raise ConfigError(
                    f"config file {str(path)!r} has no section {section!r}; found {found}"
                )
            data = data[section]
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            error = ConfigError(f"config file {str(path)!r}: {exc}")
            error.problems = exc.problems
            raise error from None

    def replace(self, **changes: Any) -> Self:
        """A validated copy with ``changes`` applied (configs are frozen)."""
        return self.from_dict({**self.model_dump(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """The config as plain JSON-compatible data."""
        return self.model_dump(mode="json")

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema of the config, with every field's description."""
        return cls.model_json_schema()
