"""The "programme" section: read from a SQLite ReferralStore, by the shop's own ids, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip(
    "matplotlib", reason='the report needs matplotlib: pip install "chainmall[plot]"'
)
pytest.importorskip("chainmall.referral")

import sqlalchemy as sa

from chainmall.cli import main
from chainmall.datasets import Shop, make_shop
from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.referral import ReferralConfig, ReferralStore, fission_path
from chainmall.report import SECTIONS, DemoReport, build_report
from chainmall.report.programme import shop_events, yuan

ONLY_PROGRAMME = tuple(spec for spec in SECTIONS if spec.key == "programme")


@pytest.fixture(scope="module")
def shop() -> Shop:
    return make_shop(seed=5, n_members=300, months=3)


def _text_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """The events with members named by text ids (as WeChat openids would be)."""
    out = frame.copy()
    for column in ("user_id", "inviter_id"):
        text = "wx-" + frame[column].astype("string")
        out[column] = text.astype(object).where(frame[column].notna(), None)
    return out


@pytest.fixture(scope="module")
def text_store_url(shop: Shop, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite programme holding the shop's events with text member ids."""
    url = f"sqlite:///{tmp_path_factory.mktemp('programme') / 'shop.db'}"
    store = ReferralStore.open(url, ReferralConfig())
    report = store.ingest(_text_ids(shop_events(shop)))
    assert len(report.rejected) < len(report.outcomes)  # the programme is not empty
    store.close()
    return url


def _section_tables(report: DemoReport) -> dict[str, pd.DataFrame]:
    (section,) = report.sections
    return {caption.split(" (")[0].split(" of ")[0]: frame for caption, frame in section.tables}


def test_demo_report_has_the_programme_section_with_a_clean_audit(report: DemoReport) -> None:
    section = next(s for s in report.sections if s.key == "programme")
    assert '<section id="programme">' in report.html
    assert "团队业绩看板" in report.html and "裂变路径" in report.html and "佣金明细" in report.html
    assert "Audit: clean" in section.intro
    assert section.summary["audit_problems"] == 0
    assert section.summary["ledger_entries"] > 0


def test_section_reads_the_board_and_a_members_path_by_text_id(
    shop: Shop, text_store_url: str
) -> None:
    store = ReferralStore.open(text_store_url)
    settlement = store.settlement()
    head = store.head()
    store.close()
    paths = [fission_path(settlement, u) for u in settlement.users["user_id"]]
    path = max(paths, key=len)  # the deepest member: a chain of several ids
    assert len(path) >= 3
    result = build_report(
        shop, specs=ONLY_PROGRAMME, programme=text_store_url, programme_member=path[-1]
    )
    tables = _section_tables(result)
    board = tables["Team performance board"]
    assert board["user_id"].str.startswith("wx-").all()
    assert board["rank"].tolist() == list(range(1, len(board) + 1))
    gmv = [int(v.replace(",", "").replace(".", "")) for v in board["team_gmv_yuan"]]
    assert gmv == sorted(gmv, reverse=True)  # largest team GMV first
    assert tables["Fission path"]["user_id"].tolist() == path
    assert " → ".join(path) in result.html
    detail = tables["Commission detail"]
    assert set(detail["kind"]) <= {"COMMISSION", "REVERSAL", "SETTLE", "POINTS", "WITHDRAW_HOLD"}
    store_rows = dict(tables["Store, tree head and audit"].to_numpy().tolist())
    assert store_rows["tree head root"] == head.root
    assert store_rows["tree head size"] == f"{head.size:,}"
    assert store_rows["audit"] == "clean"
    assert "sqlite:///" in result.sections[0].intro


def test_an_open_store_is_read_and_left_open(shop: Shop, text_store_url: str) -> None:
    store = ReferralStore.open(text_store_url)
    result = build_report(shop, specs=ONLY_PROGRAMME, programme=store)
    assert result.sections[0].summary["audit_problems"] == 0
    assert store.head().size == result.sections[0].summary["ledger_entries"]  # still usable
    store.close()


def test_a_tampered_entry_makes_the_audit_report_problems(shop: Shop, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tampered.db'}"
    store = ReferralStore.open(url, ReferralConfig())
    store.ingest(shop_events(shop))
    store.close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        changed = conn.execute(
            sa.text(
                "UPDATE referral_entries SET amount_fen = amount_fen + 100 "
                "WHERE position = (SELECT MIN(position) FROM referral_entries "
                "WHERE kind = 'COMMISSION')"
            )
        ).rowcount
    engine.dispose()
    assert changed == 1
    result = build_report(shop, specs=ONLY_PROGRAMME, programme=url)
    section = result.sections[0]
    assert "the audit found" in section.intro and "Audit: clean" not in section.intro
    assert section.summary["audit_problems"] > 0
    problems = dict(section.tables)["Audit problems"]
    assert len(problems) == section.summary["audit_problems"]
    assert "problems (" in result.html


def test_cli_demo_reads_the_store_given(
    text_store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "demo.html"
    argv = ["demo", "--members", "50", "--months", "1", "--report", str(target), "--json"]
    assert main([*argv, "--programme", text_store_url]) == 0
    summary = json.loads(capsys.readouterr().out)["report"]["sections"]["programme"]
    store = ReferralStore.open(text_store_url)
    assert summary["ledger_entries"] == store.head().size  # the store's, not the 50-member shop's
    store.close()
    assert summary["audit_problems"] == 0
    assert "wx-" in target.read_text(encoding="utf-8")


def test_cli_demo_names_a_missing_programme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    argv = ["demo", "--members", "50", "--months", "1", "--report", str(tmp_path / "d.html")]
    assert main([*argv, "--programme", url]) == 2
    assert "programme 'default' does not exist" in capsys.readouterr().err
    assert not (tmp_path / "d.html").exists()


def test_an_unknown_member_is_refused_naming_it(shop: Shop, text_store_url: str) -> None:
    with pytest.raises(DataValidationError, match="wx-nobody"):
        build_report(
            shop, specs=ONLY_PROGRAMME, programme=text_store_url, programme_member="wx-nobody"
        )


def test_a_store_without_the_programme_section_is_refused(shop: Shop) -> None:
    specs = tuple(spec for spec in SECTIONS if spec.key == "shop")
    with pytest.raises(ConfigError, match="'programme' section"):
        build_report(shop, specs=specs, programme="sqlite:///unused.db")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_yuan_formats_fen_exactly(fen: int) -> None:
    text = yuan(fen)
    whole, cents = text.lstrip("-").replace(",", "").split(".")
    assert (-1 if text.startswith("-") else 1) * (int(whole) * 100 + int(cents)) == fen
    assert len(cents) == 2


def test_yuan_marks_missing_values() -> None:
    assert yuan(pd.NA) == "–" and yuan(12345) == "123.45" and yuan(-5) == "-0.05"
