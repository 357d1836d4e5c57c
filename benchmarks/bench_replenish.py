"""Replenishment benchmark: forecast accuracy at two origins and inventory at 98 % fill.

Protocol (docs/benchmarks spec): Walmart weekly store x department sales,
complete series, h = 8, season 52, origin 1 = last 8 weeks, origin 2 = 8 weeks
earlier; MASE / sMAPE / RMSE / WRMSSE / bias. Anchors in the same run:
statsforecast AutoARIMA, AutoTheta, SeasonalNaive and a LightGBM global model
on the same lag/calendar rows.

Inventory: (R, S), R = L = 1 week, lost sales, 50 series, the last 26 weeks
simulated. Every forecaster (the engine's SeasonalNaive, XGBoost, AutoARIMA and
the default mean(XGBoost, AutoARIMA); statsforecast SeasonalNaive, AutoTheta,
AutoARIMA as anchors) is backtested at 1-week steps with the same origins and
refit schedule (every 13 origins) and drives the same policy: each week's
safety stock is the smoothed conformal quantile of the series' own 26 latest
realised out-of-sample 2-week errors. Reported: days of end-of-week stock at a
98 % mean fill rate (level found by bisection), the cycle service achieved at
90 % and 95 % targets with a fixed level and with the level fed back from
stock-outs (γ = 0.5, after a warm-up), and, for the default forecaster, the
cycle service when lead times are drawn from {1: 0.7, 2: 0.3} weeks.
``--quick`` (CI) uses 10 series, 8 simulated weeks, small models, and says in a
JSON line which anchors it skips.

    python benchmarks/bench_replenish.py [--quick] [--no-anchors] [--data-file PATH] [--blocks s100,all,inventory]
    python benchmarks/bench_replenish.py --export-weekly oj:/tmp/oj_weekly.csv   # other weekly data
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _report import Report

from chainmall._optional import import_optional
from chainmall.datasets import load_orange_juice, load_walmart_sales, make_shop
from chainmall.replenish import (
    AutoARIMA,
    CombinationForecaster,
    ConformalSafetyStock,
    ErrorPaths,
    LSTMForecaster,
    ReplenishConfig,
    SeasonalNaive,
    XGBoostForecaster,
    ZhangHybrid,
    cross_validation,
    eoq,
    error_paths,
    evaluate_forecasts,
    optimal_ss_policy,
    simulate_order_up_to,
    simulate_service_feedback,
)
from chainmall.replenish._base import Forecaster
from chainmall.replenish._features import build_rows, series_scales
from chainmall.replenish._panel import prepare_panel

H, SEASON = 8, 52
REPORTS: dict[str, Report] = {}


def emit(
    bench: str,
    metric: str,
    value: float,
    anchor: float | None = None,
    note: str = "",
    *,
    anchor_name: str | None = None,
    target: str | None = None,
) -> None:
    """One measurement: a JSON line now, a table row at the end (one table per block)."""
    report = REPORTS.setdefault(bench, Report(bench))
    number = None if value is None or np.isnan(value) else round(float(value), 4)
    report.add(
        metric,
        number,
        anchor=None if anchor is None else round(float(anchor), 4),
        anchor_name=anchor_name,
        target=target,
        note=note or None,
    )


def load(path: str | None) -> pd.DataFrame:
    if path is None:
        df = load_walmart_sales(complete_only=True)
    elif Path(path).name.startswith("train.csv"):
        df = load_walmart_sales(data_home=Path(path).parent.parent, complete_only=True)
    else:
        df = pd.read_csv(path, parse_dates=["ds"])
        sizes = df.groupby("unique_id")["ds"].transform("size")
        df = df[sizes == sizes.max()]
    if "is_holiday" not in df:
        df = df.assign(is_holiday=0.0)
    return df.assign(is_holiday=df["is_holiday"].astype("float64"))[
        ["unique_id", "ds", "y", "is_holiday"]
    ]


def sample_ids(df: pd.DataFrame, n: int) -> list[str]:
    ids = sorted(df["unique_id"].unique())
    return sorted(np.random.default_rng(0).choice(ids, min(n, len(ids)), replace=False).tolist())


def split(df: pd.DataFrame, origin: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    dates = np.sort(df["ds"].unique())
    cut = dates[len(dates) - 1 - H * origin]
    test = df[df["ds"] > cut].sort_values(["unique_id", "ds"]).groupby("unique_id").head(H)
    return df[df["ds"] <= cut], test


SF_ANCHORS = ("sf_SeasonalNaive", "sf_AutoTheta", "sf_AutoARIMA")


def run_anchors(train: pd.DataFrame, test: pd.DataFrame, anchors: tuple[str, ...]) -> pd.DataFrame:
    """Forecasts of the requested anchors (statsforecast models by alias, ``lgb_Global``)."""
    out = test[["unique_id", "ds"]].copy()
    wanted = [a for a in SF_ANCHORS if a in anchors]
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoARIMA as SfAutoARIMA
        from statsforecast.models import AutoTheta
        from statsforecast.models import SeasonalNaive as SfSeasonalNaive

        build = {
            "sf_SeasonalNaive": lambda: SfSeasonalNaive(
                season_length=SEASON, alias="sf_SeasonalNaive"
            ),
            "sf_AutoTheta": lambda: AutoTheta(season_length=SEASON, alias="sf_AutoTheta"),
            "sf_AutoARIMA": lambda: SfAutoARIMA(season_length=SEASON, alias="sf_AutoARIMA"),
        }
        sf = StatsForecast(models=[build[a]() for a in wanted], freq=weekly_freq(train), n_jobs=1)
        fc = sf.forecast(df=train[["unique_id", "ds", "y"]], h=H)
        out = out.merge(
            fc.reset_index() if "unique_id" not in fc else fc, on=["unique_id", "ds"], how="left"
        )
    except Exception as exc:  # anchors must never be skipped silently
        emit("anchor", "statsforecast_failed", float("nan"), note=repr(exc)[:200])
    if "lgb_Global" not in anchors:
        return out
    try:
        import lightgbm as lgb

        cfg = ReplenishConfig()
        panel, _ = prepare_panel(train, cfg, ["is_holiday"])
        scales = series_scales(panel, SEASON)
        rows = build_rows(panel, SEASON, H, scales, train=True)
        ok = ~np.isnan(rows.target)
        model = lgb.LGBMRegressor(
            n_jobs=1,
            n_estimators=400,
            learning_rate=0.05,
            num_leaves=63,
            objective="l1",
            verbose=-1,
            random_state=0,
        )
        model.fit(rows.X[ok], rows.target[ok])
        fut = (
            test.pivot_table(index="unique_id", columns="ds", values="is_holiday", aggfunc="first")
            .loc[panel.ids]
            .to_numpy()
        )
        pred_rows = build_rows(
            panel, SEASON, H, scales, train=False, future_exog={"is_holiday": fut}
        )
        pred = model.predict(pred_rows.X).reshape(len(panel), H) * scales[:, None]
        lgb_fc = pd.DataFrame(
            {
                "unique_id": np.repeat(panel.ids, H),
                "ds": np.concatenate([panel.future_dates(i, H) for i in range(len(panel))]),
                "lgb_Global": pred.ravel(),
            }
        )
        out = out.merge(lgb_fc, on=["unique_id", "ds"], how="left")
    except Exception as exc:
        emit("anchor", "lightgbm_failed", float("nan"), note=repr(exc)[:200])
    return out


def engine_models(quick: bool, keys: tuple[str, ...]) -> dict[str, Forecaster]:
    """The engine's models by key, in fitting order (the combination comes last)."""
    epochs = 2 if quick else 30
    models: dict[str, Forecaster] = {
        "arima": AutoARIMA(),
        "xgb": XGBoostForecaster(horizon=H, n_estimators=100 if quick else 300),
        "lstm": LSTMForecaster(horizon=H, epochs=epochs),
        "zhang": ZhangHybrid(
            AutoARIMA(), LSTMForecaster(horizon=H, seasonal=False, epochs=epochs, alias="LSTM")
        ),
    }
    members = [models[k] for k in ("xgb", "arima", "lstm") if k in keys]
    models["combo"] = CombinationForecaster(members, horizon=H, n_windows=2)
    return {k: models[k] for k in ("arima", "xgb", "lstm", "zhang", "combo") if k in keys}


EXOG = {"xgb": ["is_holiday"], "combo": ["is_holiday"]}


def forecast_block(
    df: pd.DataFrame,
    quick: bool,
    anchors: tuple[str, ...],
    tag: str,
    origins: list[int],
    keys: tuple[str, ...],
) -> None:
    for origin in origins:
        train, test = split(df, origin)
        table = test[["unique_id", "ds", "y"]].copy()
        names = []
        fitted_by_key: dict[str, Forecaster] = {}
        for key, model in engine_models(quick, keys).items():
            t0, w0 = time.process_time(), time.perf_counter()
            exog = EXOG.get(key, [])
            if key == "combo":  # members evaluated alone above are reused, not refitted
                reuse = [fitted_by_key[k] for k in ("xgb", "arima", "lstm") if k in fitted_by_key]
                assert isinstance(model, CombinationForecaster)
                fitted = model.fit(train, exog_cols=exog, fitted_members=reuse)
            else:
                fitted = model.fit(train, exog_cols=exog)
            fitted_by_key[key] = fitted
            fc = fitted.predict(H, X_future=test if exog else None)
            cpu = time.process_time() - t0
            note = f"wall {time.perf_counter() - w0:.1f}s"
            if key == "combo":
                note += "; members reused, cpu = validation fits + weights"
            emit(f"{tag}_o{origin}", f"cpu_s_{key}", cpu, note=note)
            if key == "arima":
                emit(
                    f"{tag}_o{origin}",
                    "arima_cpu_s_per_series",
                    cpu / train["unique_id"].nunique(),
                    0.5,
                )
            if key == "combo":
                assert isinstance(fitted, CombinationForecaster)
                emit(
                    f"{tag}_o{origin}",
                    "combo_weights",
                    0.0,
                    note=json.dumps({k: round(v, 3) for k, v in fitted.weights_.items()}),
                )
            table = table.merge(
                fc[["unique_id", "ds", fitted.name]], on=["unique_id", "ds"], how="left"
            )
            names.append(fitted.name)
        table = table.merge(
            SeasonalNaive().fit(train).predict(H), on=["unique_id", "ds"], how="left"
        )
        names.append("SeasonalNaive")
        if anchors:
            t0 = time.process_time()
            anc = run_anchors(train, test, anchors)
            emit(f"{tag}_o{origin}", "cpu_s_anchors", time.process_time() - t0)
            table = table.merge(anc, on=["unique_id", "ds"], how="left")
            names += [c for c in anc.columns if c not in ("unique_id", "ds")]
        scores = evaluate_forecasts(table, train, names, season=SEASON).set_index("model")
        ref = scores["mase"].get("sf_AutoARIMA", scores["mase"].get("SeasonalNaive"))
        for name, row in scores.iterrows():
            for metric in ("mase", "smape", "rmse", "wrmsse", "bias"):
                emit(
                    f"{tag}_o{origin}",
                    f"{metric}_{name}",
                    row[metric],
                    ref if metric == "mase" else None,
                )


INV_H = 3  # backtest horizon (weeks): protection intervals L + R up to 3
COVER = 2  # protection interval L + R of the main (R, S) protocol, in weeks
REFIT_EVERY = 13  # origins between refits; forecasts in between start from newer history
FEEDBACK_RATE = 0.5  # γ of the service feedback, chosen on the weeks before the test window
LEAD_PMF = {1: 0.7, 2: 0.3}  # empirical lead-time distribution of the random-lead check
DEFAULT = "mean(XGBoost,AutoARIMA)"  # the default forecaster for stock (see docs)
MIN_SCORES = 8  # realised origins before a safety stock exists
FEEDBACK_START = MIN_SCORES + INV_H - 1  # first origin with a safety stock for every cover


def weekly_freq(df: pd.DataFrame) -> str:
    """pandas alias of the data's weekly period (e.g. ``W-FRI``), for statsforecast."""
    first = df[df["unique_id"] == df["unique_id"].iloc[0]]["ds"].sort_values()
    return pd.infer_freq(pd.DatetimeIndex(first)) or "W-FRI"


def engine_backtests(data: pd.DataFrame, quick: bool, n_windows: int) -> dict[str, pd.DataFrame]:
    """Rolling 1-week-step backtests of the engine's forecasters, by name."""
    models: dict[str, tuple[Forecaster, list[str]]] = {
        "SeasonalNaive": (SeasonalNaive(), []),
        "XGBoost": (
            XGBoostForecaster(horizon=INV_H, n_estimators=100 if quick else 300),
            ["is_holiday"],
        ),
        "AutoARIMA": (AutoARIMA(), []),
    }
    out = {}
    for name, (model, exog) in models.items():
        t0 = time.process_time()
        cv = cross_validation(
            [model], data, h=INV_H, n_windows=n_windows, step=1, exog_cols=exog, refit=REFIT_EVERY
        )
        emit("inventory", f"cpu_s_backtest_{name}", time.process_time() - t0)
        out[name] = cv[["unique_id", "ds", "cutoff", "y", name]]
    mix = out["XGBoost"].merge(out["AutoARIMA"], on=["unique_id", "ds", "cutoff", "y"])
    out[DEFAULT] = mix.assign(**{DEFAULT: mix[["XGBoost", "AutoARIMA"]].mean(axis=1)})
    return out


def anchor_backtests(
    data: pd.DataFrame, anchors: tuple[str, ...], n_windows: int, freq: str
) -> dict[str, pd.DataFrame]:
    """The same backtest with statsforecast forecasters (same origins and refit schedule)."""
    wanted = [a for a in SF_ANCHORS if a in anchors]
    if not wanted:
        return {}
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoARIMA as SfAutoARIMA
        from statsforecast.models import AutoTheta
        from statsforecast.models import SeasonalNaive as SfSeasonalNaive
    except ImportError as exc:  # anchors must never be skipped silently
        emit("inventory", "statsforecast_missing", float("nan"), note=repr(exc)[:200])
        return {}
    build = {
        "sf_SeasonalNaive": lambda: SfSeasonalNaive(season_length=SEASON, alias="sf_SeasonalNaive"),
        "sf_AutoTheta": lambda: AutoTheta(season_length=SEASON, alias="sf_AutoTheta"),
        "sf_AutoARIMA": lambda: SfAutoARIMA(season_length=SEASON, alias="sf_AutoARIMA"),
    }
    out = {}
    for name in wanted:
        t0 = time.process_time()
        sf = StatsForecast(models=[build[name]()], freq=freq, n_jobs=1)
        cv = sf.cross_validation(
            h=INV_H,
            df=data[["unique_id", "ds", "y"]],
            n_windows=n_windows,
            step_size=1,
            refit=REFIT_EVERY,
        )
        cv = cv.reset_index() if "unique_id" not in cv else cv
        emit("inventory", f"cpu_s_backtest_{name}", time.process_time() - t0)
        out[name] = cv[["unique_id", "ds", "cutoff", "y", name]]
    return out


def level_for_fill(run: Callable[[float], dict[str, float]], fill: float = 0.98) -> float:
    """Smallest service level (bisection, 12 steps) whose simulation reaches mean ``fill``."""
    lo, hi = 0.5, 0.999
    for _ in range(12):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if run(mid)["fill_rate"] < fill else (lo, mid)
    return hi


def fixed_level_run(
    paths: ErrorPaths, n_sim: int, window: int, lead_time: int | dict[int, float] = 1
) -> Callable[..., dict[str, float]]:
    """Simulator of the last ``n_sim`` weeks at a fixed level (the main protocol)."""
    model = ConformalSafetyStock(paths, lead_time=lead_time, window=window, min_scores=MIN_SCORES)
    sim = range(len(paths.cutoffs) - n_sim, len(paths.cutoffs))

    def run(level: float, lead: int | np.ndarray = 1) -> dict[str, float]:
        safety = np.column_stack([model.at(t, level) for t in sim])
        return simulate_order_up_to(
            paths.demand[:, sim, 0],
            model.expected[:, sim] + np.maximum(safety, 0.0),
            lead_time=lead,
        ).summary()

    return run


def feedback_run(
    paths: ErrorPaths,
    n_sim: int,
    window: int,
    target: float,
    lead_time: int | dict[int, float] = 1,
    lead: np.ndarray | None = None,
) -> float:
    """Cycle service of the last ``n_sim`` weeks with the level fed back from stock-outs.

    ``lead``: per-order lead times from origin ``FEEDBACK_START`` on (random-lead check).
    """
    model = ConformalSafetyStock(paths, lead_time=lead_time, window=window, min_scores=MIN_SCORES)
    start = FEEDBACK_START
    weeks = slice(start, None)
    n_weeks = len(paths.cutoffs) - start
    result, _ = simulate_service_feedback(
        paths.demand[:, weeks, 0],
        model.expected[:, weeks],
        lambda t, level: model.at(t + start, level),
        target,
        adapt_rate=FEEDBACK_RATE,
        warmup=n_weeks - n_sim,
        lead_time=1 if lead is None else lead,
    )
    return result.summary()["cycle_service"]


def inventory_metrics(
    name: str, paths: ErrorPaths, n_sim: int, window: int, theta_days: float | None
) -> float:
    """Days at 98 % fill and achieved cycle service (fixed level and fed back) of one model."""
    run = fixed_level_run(paths, n_sim, window)
    level = level_for_fill(run)
    at98 = run(level)
    anchor = None if name == "sf_AutoTheta" else theta_days
    emit(
        "inventory",
        f"days_at_98fill_{name}",
        at98["days_of_supply"],
        anchor,
        anchor_name="sf_AutoTheta-driven, same run" if anchor is not None else None,
        target="<= 2.2 days",
        note=("" if at98["fill_rate"] >= 0.98 else "98 % fill NOT reached; ")
        + f"fill {at98['fill_rate']:.4f} at level {level:.3f}",
    )
    for target in (0.9, 0.95):
        pct = round(100 * target)
        fixed = run(target)["cycle_service"]
        fed = feedback_run(paths, n_sim, window, target)
        for metric, achieved in (
            (f"cycle_service_at_{pct}", fixed),
            (f"cycle_service_feedback_at_{pct}", fed),
        ):
            emit(
                "inventory",
                f"{metric}_{name}",
                achieved,
                target=f"{target:.2f} ± 0.01",
                note=f"gap {100 * (achieved - target):+.1f} points",
            )
    return float(at98["days_of_supply"])


def random_lead_check(paths: ErrorPaths, n_sim: int, window: int) -> None:
    """Cycle service at 95 % when lead times are drawn from LEAD_PMF (seed 0)."""
    lead = np.random.default_rng(0).choice(
        np.array(list(LEAD_PMF)),
        p=np.array(list(LEAD_PMF.values())),
        size=(len(paths.ids), len(paths.cutoffs) - FEEDBACK_START),
    )
    for label, assumed in (("mixture", LEAD_PMF), ("assume_L1", 1)):
        run = fixed_level_run(paths, n_sim, window, assumed)
        fixed = run(0.95, lead[:, -n_sim:])["cycle_service"]
        fed = feedback_run(paths, n_sim, window, 0.95, assumed, lead)
        for metric, achieved in (("", fixed), ("feedback_", fed)):
            emit(
                "inventory",
                f"cycle_service_{metric}random_lead_at_95_{label}",
                achieved,
                target="0.95 ± 0.01",
                note=f"{DEFAULT}; lead times {LEAD_PMF}; gap {100 * (achieved - 0.95):+.1f} points",
            )


def inventory_block(df: pd.DataFrame, quick: bool, anchors: tuple[str, ...]) -> None:
    """(R, S), R = L = 1 week, lost sales, conformal safety stock from rolling errors."""
    ids = sample_ids(df, 10 if quick else 50)
    data = df[df["unique_id"].isin(ids)]
    n_sim = 8 if quick else 26
    window = 8 if quick else 26
    n_windows = n_sim + window + INV_H
    backtests = engine_backtests(data, quick, n_windows)
    backtests.update(anchor_backtests(data, anchors, n_windows, weekly_freq(data)))
    paths = {name: error_paths(cv, name) for name, cv in backtests.items()}
    theta_days = None
    if "sf_AutoTheta" in paths:
        theta_days = inventory_metrics("sf_AutoTheta", paths["sf_AutoTheta"], n_sim, window, None)
    for name, p in paths.items():
        if name != "sf_AutoTheta":
            inventory_metrics(name, p, n_sim, window, theta_days)
    random_lead_check(paths[DEFAULT], n_sim, window)


def lotsizing_block(quick: bool, anchors: tuple[str, ...]) -> None:
    """Exact (s, S) and EOQ against stockpyl on a grid of Poisson problems (h = 1)."""
    from scipy import stats

    means = (2.0, 6.0) if quick else (2.0, 6.0, 15.0, 40.0)
    grid = [(m, k, p) for m in means for k in (5.0, 50.0, 200.0) for p in (4.0, 19.0)]
    ours, cpu = [], 0.0
    for mean, order, stockout in grid:
        pmf = stats.poisson(mean).pmf(np.arange(int(mean * 4 + 40)))
        t0 = time.process_time()
        ours.append(optimal_ss_policy(pmf / pmf.sum(), 1.0, stockout, order))
        cpu += time.process_time() - t0
    emit("lotsizing", "cpu_s_ss_policy_grid", cpu, note=f"{len(grid)} Poisson problems")
    if not anchors:
        return
    try:
        from stockpyl.eoq import economic_order_quantity
        from stockpyl.ss import s_s_discrete_exact
    except ImportError as exc:  # the anchor must never be skipped silently
        emit("lotsizing", "stockpyl_missing", float("nan"), note=repr(exc)[:200])
        return
    t0 = time.process_time()
    ref = [s_s_discrete_exact(1.0, p, k, True, m) for m, k, p in grid]
    ref_cpu = time.process_time() - t0
    same = np.mean(
        [(o.reorder_point, o.order_up_to) == (r[0], r[1]) for o, r in zip(ours, ref, strict=True)]
    )
    gap = max(abs(o.cost / r[2] - 1.0) for o, r in zip(ours, ref, strict=True))
    emit("lotsizing", "ss_policy_same_as_stockpyl", float(same), target="1.0")
    emit("lotsizing", "ss_policy_max_rel_cost_gap", gap, target="< 1e-6")
    emit(
        "lotsizing", "cpu_s_ss_policy_grid_vs_stockpyl", cpu, ref_cpu, anchor_name="stockpyl 1.0.2"
    )
    eoq_gap = max(
        abs(eoq(k, 1.0, m)[1] / economic_order_quantity(k, 1.0, m)[1] - 1.0) for m, k, _ in grid
    )
    emit("lotsizing", "eoq_max_rel_cost_gap", eoq_gap, target="< 1e-12")


def oj_weekly() -> pd.DataFrame:
    """Dominick's orange juice, units per store x brand and week (interior gaps interpolated).

    Units are ``exp(logmove)``; week 40 is dated Friday 1989-09-15. Series with
    missing weeks at either end stay incomplete (the loader keeps complete ones).
    """
    oj = load_orange_juice()
    frame = pd.DataFrame(
        {
            "unique_id": oj["store"].astype(str) + "_" + oj["brand"].astype(str),
            "ds": pd.Timestamp("1989-09-15") + pd.to_timedelta(7 * (oj["week"] - 40), unit="D"),
            "y": np.exp(oj["logmove"]),
        }
    )
    grid = pd.MultiIndex.from_product(
        [sorted(frame["unique_id"].unique()), sorted(frame["ds"].unique())],
        names=["unique_id", "ds"],
    )
    y = frame.set_index(["unique_id", "ds"])["y"].reindex(grid)
    y = y.groupby(level=0).transform(lambda s: s.interpolate(limit_area="inside"))
    return y.dropna().reset_index()


def shop_weekly() -> pd.DataFrame:
    """Weekly (Saturday to Friday) demand of the 50 SKUs of a seeded 3-year synthetic shop."""
    daily = make_shop(seed=0, months=36).demand
    daily = daily.assign(ds=pd.to_datetime(daily["ds"]))
    weeks = daily.set_index("ds").groupby("unique_id")["y"].resample("W-FRI").agg(["sum", "size"])
    full = weeks[weeks["size"] == 7].reset_index()
    return full.rename(columns={"sum": "y"})[["unique_id", "ds", "y"]]


def export_weekly(spec: str) -> None:
    """``oj:PATH`` or ``shop:PATH``: write another weekly data set in the long CSV format."""
    kind, _, path = spec.partition(":")
    frames = {"oj": oj_weekly, "shop": shop_weekly}
    if kind not in frames or not path:
        raise SystemExit(f"--export-weekly takes oj:PATH or shop:PATH, got {spec!r}")
    frame = frames[kind]()
    frame.to_csv(path, index=False)
    emit(
        "export",
        f"rows_{kind}",
        len(frame),
        note=f"{frame['unique_id'].nunique()} series -> {path}",
    )


ALL_KEYS = ("arima", "xgb", "lstm", "zhang", "combo")
ALL_ANCHORS = (*SF_ANCHORS, "lgb_Global")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="10 series, one origin, tiny models (< 30 CPU-s)"
    )
    parser.add_argument("--no-anchors", action="store_true")
    parser.add_argument("--data-file", default=None)
    parser.add_argument(
        "--blocks",
        default="s100,inventory,lotsizing",
        help="comma list of s100 (100-series sample, two origins), all (every series, "
        "cheap models, origin 1), inventory, lotsizing (exact (s, S) and EOQ vs stockpyl)",
    )
    parser.add_argument(
        "--export-weekly",
        default=None,
        metavar="KIND:PATH",
        help="write another weekly data set as unique_id,ds,y CSV and exit: "
        "oj (Dominick's store x brand units) or shop (synthetic shop SKUs)",
    )
    args = parser.parse_args()
    if args.export_weekly:
        export_weekly(args.export_weekly)
        return
    torch = import_optional("torch", extra="torch")
    torch.set_num_threads(1)  # CPU-s comparable with the single-threaded anchors
    blocks = set(args.blocks.split(","))
    df = load(args.data_file)
    if args.quick:
        keys: tuple[str, ...] = ALL_KEYS
        anchors: tuple[str, ...] = ("sf_SeasonalNaive", "lgb_Global")
        skipped = {
            "sf_AutoARIMA": "numba compile + fits exceed the CI budget",
            "sf_AutoTheta": "numba compile exceeds the CI budget",
        }
    else:
        keys, anchors, skipped = ALL_KEYS, ALL_ANCHORS, {}
    if args.no_anchors:
        skipped.update({a: "--no-anchors" for a in anchors})
        anchors = ()
    if skipped:
        emit("run", "skipped", float("nan"), note=json.dumps(skipped))
    t0, w0 = time.process_time(), time.perf_counter()
    if "s100" in blocks:
        sample = df[df["unique_id"].isin(sample_ids(df, 10 if args.quick else 100))]
        tag = "quick" if args.quick else "s100"
        forecast_block(sample, args.quick, anchors, tag, [1] if args.quick else [1, 2], keys)
    if "all" in blocks and not args.quick:
        cheap = ("arima", "xgb")
        cheap_anchors = tuple(a for a in anchors if a in ("sf_SeasonalNaive", "lgb_Global"))
        emit(
            "all",
            "skipped",
            float("nan"),
            note="LSTM, hybrids, sf_AutoARIMA, sf_AutoTheta: too costly for 2,660 series here",
        )
        forecast_block(df, False, cheap_anchors, "all", [1], cheap)
    if "inventory" in blocks:
        inventory_block(df, args.quick, anchors)
    if "lotsizing" in blocks:
        lotsizing_block(args.quick, () if args.no_anchors else ("stockpyl",))
    emit(
        "run",
        "cpu_s_total",
        time.process_time() - t0,
        note=f"wall {time.perf_counter() - w0:.1f}s, data loading excluded",
    )
    for bench, report in REPORTS.items():
        print(f"\n{bench}")
        report.table()


if __name__ == "__main__":
    main()
