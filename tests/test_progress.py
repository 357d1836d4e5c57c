"""Fits log through ``logging`` and show progress bars on request (``progress=True``).

The bar is tqdm's when tqdm imports, plain ``desc: done/total`` lines on stderr when
it does not; the library adds no handler but a ``NullHandler``.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall._progress import progress_bar
from chainmall.campaign import Campaign, WorldConfig, replicate, run_experiment, simulate_arm
from chainmall.cli import main
from chainmall.datasets import make_shop
from chainmall.exceptions import ConfigError
from chainmall.recommend import EASE, ImplicitALS, Interactions, InteractionsConfig
from chainmall.replenish import AutoARIMA, Naive, cross_validation


@pytest.fixture
def interactions() -> Interactions:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"user_id": rng.integers(0, 30, 300), "item_id": rng.integers(0, 20, 300)}
    ).drop_duplicates()
    return Interactions.from_frame(frame, InteractionsConfig(rating_col=None, ts_col=None))


@pytest.fixture
def sales() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    ds = pd.date_range("2025-01-03", periods=24, freq="W-FRI", tz="Asia/Shanghai")
    return pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": ds, "y": rng.poisson(20, len(ds)).astype(float)})
        for uid in ("a", "b", "c")
    )


def _without_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import tqdm`` / ``from tqdm.auto import tqdm`` fail, as if not installed."""
    for name in ("tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, name, None)


def test_the_library_adds_only_a_null_handler() -> None:
    handlers = logging.getLogger("chainmall").handlers
    assert [type(h) for h in handlers] == [logging.NullHandler]


def test_a_recommender_fit_logs_what_sizes_and_seconds(
    interactions: Interactions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chainmall")
    EASE().fit(interactions)
    lines = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    n = interactions.matrix.nnz
    assert lines[0] == (
        "chainmall.recommend._base",
        "INFO",
        f"EASE: fitting on {interactions.n_users} users, {interactions.n_items} items, "
        f"{n} interactions",
    )
    assert lines[-1][2].startswith("EASE: fitted in ") and lines[-1][2].endswith(" s")


def test_forecaster_and_backtest_log_at_info_and_debug(
    sales: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="chainmall.replenish")
    cross_validation([Naive()], sales, h=2, n_windows=3, step=1)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "cross_validation: fitting on 3 origins, 1 models, 72 rows"
    assert sum(m.startswith("Naive: fitting on 3 series") for m in messages) == 3
    assert sum("origin" in m and "done" in m for m in messages) == 3
    assert messages[-1].startswith("cross_validation: fitted in")


def test_progress_uses_tqdm_on_stderr(
    interactions: Interactions, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    ImplicitALS(n_iters=4).fit(interactions, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ImplicitALS" in captured.err and "4/4" in captured.err


def test_progress_without_tqdm_writes_plain_lines(
    interactions: Interactions,
    sales: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _without_tqdm(monkeypatch)
    with pytest.raises(ImportError):
        import tqdm.auto  # noqa: F401
    ImplicitALS(n_iters=4).fit(interactions, progress=True)
    assert capsys.readouterr().err.splitlines() == [
        "ImplicitALS: 1/4",
        "ImplicitALS: 2/4",
        "ImplicitALS: 3/4",
        "ImplicitALS: 4/4",
    ]
    AutoARIMA().fit(sales, progress=True)
    cross_validation([Naive()], sales, h=2, n_windows=2, step=1, progress=True)
    assert capsys.readouterr().err.splitlines() == [
        "AutoARIMA: 1/3",
        "AutoARIMA: 2/3",
        "AutoARIMA: 3/3",
        "backtest: 1/2",
        "backtest: 2/2",
    ]


def test_plain_bar_writes_about_every_tenth(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_tqdm(monkeypatch)
    with progress_bar(1000, enabled=True, desc="fit") as bar:
        for _ in range(1000):
            bar.update()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "fit: 100/1000" and lines[-1] == "fit: 1000/1000" and len(lines) == 10
    with progress_bar(5, enabled=False, desc="quiet") as bar:
        bar.update(5)
    assert capsys.readouterr().err == ""


def test_no_progress_by_default(
    interactions: Interactions, capsys: pytest.CaptureFixture[str]
) -> None:
    ImplicitALS(n_iters=2).fit(interactions)
    assert capsys.readouterr().err == ""


def test_show_progress_of_a_forecaster_is_a_deprecated_alias(
    sales: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_tqdm(monkeypatch)
    with pytest.warns(FutureWarning, match=r"AutoARIMA\(\)\.fit\(df, progress=True\)"):
        model = AutoARIMA(show_progress=True)
    model.fit(sales)
    assert capsys.readouterr().err.splitlines()[-1] == "AutoARIMA: 3/3"


def test_show_progress_of_ddpg_config_is_deprecated() -> None:
    from chainmall.recommend import DDPGConfig

    with pytest.warns(FutureWarning, match=r"DDPGRecommender.fit\(\.\.\., progress=True\)"):
        DDPGConfig(show_progress=True)


def test_demand_model_progress_counts_boosting_rounds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("xgboost")
    from chainmall.pricing import DemandConfig, DemandModel

    rng = np.random.default_rng(2)
    features = pd.DataFrame(
        {"log_price": rng.normal(0, 0.2, 200), "week_of_year": np.arange(200) % 52}
    )
    log_units = 3 - 2 * features["log_price"] + rng.normal(0, 0.1, 200)
    _without_tqdm(monkeypatch)
    config = DemandConfig(n_estimators=10, n_boosters=2, calibration_share=0.0)
    model = DemandModel(config).fit(features, log_units, progress=True)
    assert capsys.readouterr().err.splitlines()[-1] == "DemandModel: 20/20"
    again = DemandModel(config).fit(features, log_units)
    np.testing.assert_allclose(model.predict(features), again.predict(features))


def test_cli_verbose_shows_the_fit_log_on_stderr(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "sales.csv"
    weeks = pd.date_range("2025-01-03", periods=10, freq="W-FRI").strftime("%Y-%m-%d")
    pd.DataFrame({"unique_id": "a", "ds": weeks, "y": np.arange(10)}).to_csv(history, index=False)
    assert main(["-v", "forecast", str(history), "--model", "naive", "--h", "1"]) == 0
    err = capsys.readouterr().err
    assert "chainmall.replenish._base: Naive: fitting on 1 series, 10 periods" in err
    assert main(["forecast", str(history), "--model", "naive", "--h", "1"]) == 0
    assert capsys.readouterr().err == ""
    assert [type(h) for h in logging.getLogger("chainmall").handlers] == [logging.NullHandler]


# -- the progress keyword of the data set, campaign and report calls -------------------
TINY_WORLD = WorldConfig(n_members=60, n_items=10, weeks=2, pre_weeks=1, refit_weeks=2)


def _report(**kwargs: Any) -> Any:
    from chainmall.report import Section, SectionSpec, build_report

    specs = tuple(
        SectionSpec(key, key, None, lambda shop, key=key: Section(key, key, "intro"))
        for key in ("first", "second")
    )
    return build_report(make_shop(n_members=10, months=1), specs=specs, **kwargs)


# name in messages, the call with extra keywords, the plain lines it writes without tqdm
PROGRESS_CALLS: dict[str, tuple[Callable[..., Any], list[str]]] = {
    "make_shop": (
        lambda **kw: make_shop(n_members=10, months=1, **kw),
        [f"make_shop: {stage}/6" for stage in range(2, 7)],
    ),
    "simulate_arm": (
        lambda **kw: simulate_arm(TINY_WORLD, Campaign(name="arm"), **kw),
        ["simulating arm: 1/3", "simulating arm: 2/3", "simulating arm: 3/3"],
    ),
    "run_experiment": (
        lambda **kw: run_experiment(TINY_WORLD, Campaign(name="t"), **kw),
        [f"simulating {arm}: {week}/3" for arm in ("t", "control") for week in (1, 2, 3)],
    ),
    "replicate": (
        lambda **kw: replicate(TINY_WORLD, Campaign(), seeds=[0, 1], **kw),
        ["seeds: 1/2", "seeds: 2/2"],
    ),
    "build_report": (_report, ["report: 1/2", "report: 2/2"]),
}


@pytest.mark.parametrize("name", PROGRESS_CALLS)
def test_progress_keyword_shows_a_bar_and_warns_nothing(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    call, lines = PROGRESS_CALLS[name]
    _without_tqdm(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the library passes progress= internally
        call(progress=True)
    assert capsys.readouterr().err.splitlines() == lines
    call()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("name", PROGRESS_CALLS)
def test_show_progress_still_works_with_a_future_warning(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    call, lines = PROGRESS_CALLS[name]
    _without_tqdm(monkeypatch)
    new = rf"use {name}\(\.\.\., progress=True\)"
    with pytest.warns(FutureWarning, match=rf"^{name}\(show_progress=True\) is deprecated.*{new}"):
        call(show_progress=True)
    assert capsys.readouterr().err.splitlines() == lines
    with pytest.warns(FutureWarning, match=r"progress=False"):
        call(show_progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("name", PROGRESS_CALLS)
@pytest.mark.parametrize("old", [True, False])
def test_progress_and_show_progress_at_once_are_refused(name: str, old: bool) -> None:
    call, _ = PROGRESS_CALLS[name]
    with pytest.raises(ConfigError, match=rf"{name}\(\) got both progress=True and .*"):
        call(progress=True, show_progress=old)


def test_the_deprecation_warning_points_at_the_caller() -> None:
    with pytest.warns(FutureWarning) as caught:
        make_shop(n_members=10, months=1, show_progress=False)
    assert caught[0].filename == __file__


def test_make_shop_keeps_show_progress_in_its_positional_slot(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_tqdm(monkeypatch)
    with pytest.warns(FutureWarning, match="make_shop"):
        make_shop(0, 10, 1, 20, "2025-01-01", 10.0, 0.03, True)
    assert capsys.readouterr().err.splitlines()[-1] == "make_shop: 6/6"
