"""``chainmall referral ...`` on a SQLite file: the operator's loop, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from chainmall.cli import main
from chainmall.referral import ReferralStore

EVENTS = """event_id,type,ts,user_id,inviter_id,order_id,line_id,amount_fen
reg-a,REGISTERED,2025-03-03T10:00,oA,,,,
reg-x,REGISTERED,2025-03-03T10:00,oX,,,,
bind-x,BOUND,2025-03-03T10:01,oX,oA,,,
so1,ORDER_PAID,2025-03-03T11:00,oA,,SO1,SO1-1,1
so2,ORDER_PAID,2025-03-03T11:00,oX,,SO2,SO2-1,1
so3,ORDER_PAID,2025-03-03T12:00+08:00,oX,,SO3,SO3-1,10000
so3,ORDER_PAID,2025-03-03T12:00+08:00,oX,,SO3,SO3-2,5000
recv3,ORDER_RECEIVED,2025-03-05T09:00,,,SO3,,
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "shop.toml").write_text("[referral]\nmonthly_cap_fen = 500000\n")
    (tmp_path / "events.csv").write_text(EVENTS)
    return {
        "url": f"sqlite:///{tmp_path / 'programme.db'}",
        "config": str(tmp_path / "shop.toml"),
        "events": str(tmp_path / "events.csv"),
        "out": str(tmp_path / "entries.csv"),
        "dir": str(tmp_path),
    }


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["referral", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_the_operators_loop(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url = files["url"]
    assert run(capsys, "init", url, "--config", files["config"])[0] == 0
    status, out, _ = run(capsys, "ingest", url, files["events"], "--json")
    first = json.loads(out)
    assert status == 0 and first["new"] == 7 and first["entries"] == 2
    status, out, _ = run(capsys, "ingest", url, files["events"], "--json")
    assert json.loads(out)["duplicate"] == 7 and json.loads(out)["entries"] == 0
    # naive times are Asia/Shanghai: receipt 03-05 09:00 +08:00, settled 14 days later
    assert run(capsys, "tick", url, "--as-of", "2025-03-19T09:00")[0] == 0
    status, out, _ = run(capsys, "balances", url, "--json")
    balances = {row["user_id"]: row for row in json.loads(out)}
    assert balances["oA"]["available_fen"] == 3_000  # 20% of 10,000 and of 5,000
    status, out, _ = run(capsys, "member", url, "oA", "--json")
    assert [row["kind"] for row in json.loads(out)] == ["COMMISSION"] * 2 + ["SETTLE"] * 2
    assert run(capsys, "export", url, files["out"], "--since", "2")[0] == 0
    exported = pd.read_csv(files["out"])
    assert exported["position"].tolist() == [2, 3]
    status, out, _ = run(capsys, "audit", url)
    assert status == 0 and "clean" in out
    store = ReferralStore.open(url)
    assert store.head().size == 4
    store.close()


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        (
            "event_id,type,ts,user_id,amount_fen\nw1,WITHDRAWAL,2025-03-04T10:00,oA,100.37\n",
            "amount_fen='100.37'",
        ),
        ("event_id,type,user_id\nr1,REGISTERED,oA\n", "no 'ts' column"),
        ("event_id,type,ts,user_id\nr1,REGISTERED,03/04/2025,oA\n", "not ISO 8601"),
    ],
    ids=["yuan-amount", "no-ts", "bad-ts"],
)
def test_bad_input_is_one_line_and_status_2(
    files: dict[str, str], capsys: pytest.CaptureFixture[str], csv: str, message: str
) -> None:
    url = files["url"]
    run(capsys, "init", url, "--config", files["config"])
    bad = Path(files["dir"]) / "bad.csv"
    bad.write_text(csv)
    status, out, err = run(capsys, "ingest", url, str(bad))
    assert status == 2 and out == ""
    assert err.startswith("chainmall: error: ") and err.count("\n") == 1 and message in err
    store = ReferralStore.open(url)
    assert store.head().size == 0 and store.event_log().empty
    store.close()


def test_missing_file_and_programme_are_one_line(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "ingest", files["url"], "missing.csv")
    assert status == 2 and "no events file at 'missing.csv'" in err
    status, _, err = run(capsys, "balances", files["url"], "--programme", "nope")
    assert status == 2 and "programme 'nope' does not exist yet" in err
