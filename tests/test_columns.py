"""The ``columns=`` helper shared by every entry point (chainmall._columns)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from chainmall._columns import canonical_frame, column_mapping
from chainmall.exceptions import ColumnNotFoundError, ConfigError, DataValidationError

ACCEPTED = ("user_id", "ts", "amount_fen")


def _orders() -> pd.DataFrame:
    return pd.DataFrame({"openid": ["a", "b"], "paid_fen": [100, 250], "note": ["x", "y"]})


def test_renames_to_canonical_names_without_copying_or_changing_the_input() -> None:
    orders = _orders()
    out = canonical_frame(
        orders,
        {"user_id": "openid", "amount_fen": "paid_fen"},
        accepted=ACCEPTED,
        name="transactions",
    )
    assert list(out.columns) == ["user_id", "amount_fen", "note"]
    assert list(orders.columns) == ["openid", "paid_fen", "note"]
    assert np.shares_memory(out["amount_fen"].to_numpy(), orders["paid_fen"].to_numpy())


def test_nothing_to_rename_returns_the_same_object() -> None:
    orders = _orders()
    assert canonical_frame(orders, None, accepted=ACCEPTED, name="transactions") is orders
    assert canonical_frame(orders, {}, accepted=ACCEPTED, name="transactions") is orders


def test_unknown_key_lists_the_accepted_keys() -> None:
    with pytest.raises(ConfigError, match=r"customer_id.*accepted keys.*amount_fen"):
        canonical_frame(_orders(), {"customer_id": "openid"}, accepted=ACCEPTED, name="t")


def test_columns_must_be_a_mapping_of_names() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        canonical_frame(_orders(), ["user_id"], accepted=ACCEPTED, name="t")
    with pytest.raises(ConfigError, match="text"):
        canonical_frame(_orders(), {"user_id": 3}, accepted=ACCEPTED, name="t")


def test_missing_mapped_column_is_named() -> None:
    with pytest.raises(ColumnNotFoundError, match="member"):
        canonical_frame(_orders(), {"user_id": "member"}, accepted=ACCEPTED, name="t")


def test_two_keys_on_one_column_and_collisions_are_refused() -> None:
    with pytest.raises(ConfigError, match="openid"):
        canonical_frame(
            _orders(), {"user_id": "openid", "ts": "openid"}, accepted=ACCEPTED, name="t"
        )
    frame = _orders().assign(user_id=1)
    with pytest.raises(DataValidationError, match="user_id"):
        canonical_frame(frame, {"user_id": "openid"}, accepted=ACCEPTED, name="t")


def test_swapped_names_are_renamed_together() -> None:
    frame = pd.DataFrame({"user_id": [1], "ts": [2]})
    out = canonical_frame(frame, {"user_id": "ts", "ts": "user_id"}, accepted=ACCEPTED, name="t")
    assert out["user_id"].tolist() == [2]
    assert out["ts"].tolist() == [1]


def _entry_point(customer_id: str | None = None, ts: str | None = None) -> pd.DataFrame:
    return canonical_frame(
        _orders(),
        None,
        accepted=ACCEPTED,
        name="t",
        legacy={"customer_id": ("user_id", customer_id), "ts": ("ts", ts)},
    )


def test_legacy_keyword_warns_once_at_the_callers_line_naming_the_columns_spelling() -> None:
    with pytest.warns(FutureWarning, match=r"columns=\{'user_id': 'openid'\}") as caught:
        out = _entry_point(customer_id="openid")
    assert len(caught) == 1
    assert caught[0].filename == __file__
    assert "user_id" in out.columns


def test_legacy_keyword_disagreeing_with_columns_is_refused() -> None:
    with pytest.raises(ConfigError, match="disagrees"):
        column_mapping(
            {"user_id": "openid"},
            accepted=ACCEPTED,
            name="t",
            legacy={"customer_id": ("user_id", "member")},
        )


def test_old_default_name_is_read_with_a_warning_only_when_the_canonical_is_absent() -> None:
    frame = pd.DataFrame({"customer_id": ["a"], "amount": [1]})
    with pytest.warns(FutureWarning, match="earlier default"):
        out = canonical_frame(
            frame,
            None,
            accepted=ACCEPTED,
            name="t",
            old_defaults={"user_id": "customer_id", "amount_fen": "amount"},
        )
    assert list(out.columns) == ["user_id", "amount_fen"]
    current = pd.DataFrame({"user_id": ["a"], "customer_id": ["b"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = canonical_frame(
            current, None, accepted=ACCEPTED, name="t", old_defaults={"user_id": "customer_id"}
        )
    assert same is current


def test_a_non_frame_passes_through_unless_something_must_be_renamed() -> None:
    assert canonical_frame([1], None, accepted=ACCEPTED, name="t") == [1]
    with pytest.raises(DataValidationError, match="DataFrame"):
        canonical_frame([1], {"user_id": "x"}, accepted=ACCEPTED, name="t")


def test_validation_messages_name_the_callers_column() -> None:
    from chainmall._validation import Column, check_frame

    frame = _orders().assign(paid_fen=[1.5, 2.0])
    out = canonical_frame(frame, {"amount_fen": "paid_fen"}, accepted=ACCEPTED, name="t")
    with pytest.raises(DataValidationError, match=r"t\.paid_fen \(read as amount_fen\)"):
        check_frame(out, [Column("amount_fen", "money")], name="t")
    assert "chainmall.columns" not in frame.attrs
