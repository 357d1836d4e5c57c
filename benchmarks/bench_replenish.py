"""Replenishment benchmark: forecast accuracy at two origins and inventory at 98 % fill.

Protocol (docs/benchmarks spec): Walmart weekly store x department sales,
complete series, h = 8, season 52, origin 1 = last 8 weeks, origin 2 = 8 weeks
earlier; MASE / sMAPE / RMSE / WRMSSE / bias. Anchors in the same run:
statsforecast AutoARIMA, AutoTheta, SeasonalNaive and a LightGBM global model
on the same lag/calendar rows. Inventory: (R, S), R = L = 1 week, lost sales,
50 series, the last 26 weeks simulated; each week's safety stock is the
per-series conformal quantile of the 26 latest realised out-of-sample 2-week
errors; reports days of end-of-week stock at 98 % mean fill rate and the cycle
service achieved at 90 % and 95 % targets. ``--quick`` (CI) uses 10 series, one
origin, small models, and says in a JSON line which anchors it skips.

    python benchmarks/bench_replenish.py [--quick] [--no-anchors] [--data-file PATH] [--blocks s100,all,inventory]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from chainmall._optional import import_optional
from chainmall.datasets import load_walmart_sales
from chainmall.replenish import (
    AutoARIMA,
    CombinationForecaster,
    LSTMForecaster,
    ReplenishConfig,
    SeasonalNaive,
    XGBoostForecaster,
    ZhangHybrid,
    cross_validation,
    cumulative_errors,
    evaluate_forecasts,
    safety_stock,
    simulate_order_up_to,
)
from chainmall.replenish._base import Forecaster
from chainmall.replenish._features import build_rows, series_scales
from chainmall.replenish._panel import prepare_panel

H, SEASON = 8, 52
ROWS: list[dict[str, object]] = []


def emit(
    bench: str, metric: str, value: float, anchor: float | None = None, note: str = ""
) -> None:
    row: dict[str, object] = {"bench": bench, "metric": metric, "value": round(float(value), 4)}
    row["anchor"] = None if anchor is None else round(float(anchor), 4)
    row["ratio"] = None if anchor in (None, 0) else round(float(value) / float(anchor), 4)
    if note:
        row["note"] = note
    ROWS.append(row)
    print(json.dumps(row), flush=True)


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
        sf = StatsForecast(models=[build[a]() for a in wanted], freq="W-FRI", n_jobs=1)
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


def rolling_safety_stocks(
    errors: pd.DataFrame, ids: list[str], cutoffs: np.ndarray, window: int, level: float
) -> np.ndarray:
    """``(n_series, n_sim)``: at each simulated origin, the conformal per-series quantile of
    the ``window`` latest cumulative errors already realised (origins ending ``COVER`` or
    more periods before it)."""
    all_cutoffs = np.sort(errors["cutoff"].unique())
    pos = {c: j for j, c in enumerate(all_cutoffs)}
    out = []
    for c in cutoffs:
        j = pos[c]
        known = all_cutoffs[max(j - COVER - window + 1, 0) : j - COVER + 1]
        ss = safety_stock(errors[errors["cutoff"].isin(known)], level)
        out.append(ss.set_index("unique_id").loc[ids, "safety_stock"].to_numpy())
    return np.column_stack(out)


COVER = 2  # protection interval L + R of the (R, S) policy, in weeks


def inventory_block(df: pd.DataFrame, quick: bool, keys: tuple[str, ...]) -> None:
    """(R, S), R = L = 1 week, lost sales: safety stock from rolling out-of-sample errors."""
    ids = sample_ids(df, 10 if quick else 50)
    data = df[df["unique_id"].isin(ids)]
    n_sim = 8 if quick else 26
    window = 8 if quick else 26
    models: dict[str, Forecaster] = {"SeasonalNaive": SeasonalNaive()}
    if "xgb" in keys:
        models["XGBoost"] = XGBoostForecaster(horizon=COVER, n_estimators=100 if quick else 300)
    if "arima" in keys:
        models["AutoARIMA"] = AutoARIMA()
    for name, model in models.items():
        t0 = time.process_time()
        cv = cross_validation(
            [model],
            data,
            h=COVER,
            n_windows=n_sim + window + COVER,
            step=1,
            exog_cols=EXOG["xgb"] if name == "XGBoost" else [],
            refit=False,
        )
        errors = cumulative_errors(cv, name, cover=COVER)
        cutoffs = np.sort(cv["cutoff"].unique())[-n_sim:]
        sim = errors[errors["cutoff"].isin(cutoffs)]
        forecast = sim.pivot_table(
            index="unique_id", columns="cutoff", values="forecast", aggfunc="first"
        ).loc[ids]
        first_week = cv[cv["ds"] == cv["cutoff"] + pd.Timedelta(weeks=1)]
        demand = first_week.pivot_table(
            index="unique_id", columns="cutoff", values="y", aggfunc="first"
        ).loc[ids, forecast.columns]

        def run(
            level: float,
            forecast: pd.DataFrame = forecast,
            demand: pd.DataFrame = demand,
            errors: pd.DataFrame = errors,
        ) -> dict[str, float]:
            ss = rolling_safety_stocks(errors, ids, forecast.columns.to_numpy(), window, level)
            return simulate_order_up_to(
                demand.to_numpy(), forecast.to_numpy() + ss, lead_time=1, review=1
            ).summary()

        lo, hi = 0.5, 0.999
        for _ in range(12):  # service level that gives 98 % mean fill rate
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if run(mid)["fill_rate"] < 0.98 else (lo, mid)
        at98 = run(hi)
        emit(
            "inventory",
            f"days_at_98fill_{name}",
            at98["days_of_supply"],
            2.2,
            note=f"fill {at98['fill_rate']:.4f} at level {hi:.3f}",
        )
        for target in (0.9, 0.95):
            achieved = run(target)["cycle_service"]
            emit(
                "inventory",
                f"cycle_service_at_{round(100 * target)}_{name}",
                achieved,
                target,
                note=f"gap {100 * (achieved - target):+.1f} points",
            )
        emit("inventory", f"cpu_s_{name}", time.process_time() - t0)


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
        default="s100,inventory",
        help="comma list of s100 (100-series sample, two origins), all (every series, "
        "cheap models, origin 1), inventory",
    )
    args = parser.parse_args()
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
            "inventory AutoARIMA": "statsmodels filtering at 16 origins",
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
        inventory_block(df, args.quick, ("xgb",) if args.quick else ("xgb", "arima"))
    emit(
        "run",
        "cpu_s_total",
        time.process_time() - t0,
        note=f"wall {time.perf_counter() - w0:.1f}s, data loading excluded",
    )
    print("\n| bench | metric | value | anchor | ratio |\n|---|---|---|---|---|")
    for r in ROWS:
        print(f"| {r['bench']} | {r['metric']} | {r['value']} | {r['anchor']} | {r['ratio']} |")


if __name__ == "__main__":
    main()
