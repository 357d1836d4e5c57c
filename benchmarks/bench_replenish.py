"""Replenishment benchmark: forecast accuracy at two origins and inventory at 98 % fill.

Protocol (docs/benchmarks spec): Walmart weekly store x department sales,
complete series, h = 8, season 52, origin 1 = last 8 weeks, origin 2 = 8 weeks
earlier; MASE / sMAPE / RMSE / WRMSSE / bias. Anchors in the same run:
statsforecast AutoARIMA, AutoTheta, SeasonalNaive and a LightGBM global model
on the same lag/calendar rows. Inventory: (R, S), R = L = 1 week, lost sales,
26 weekly origins, safety stock from the out-of-sample 2-week errors of the 26
origins before; reports days of end-of-week stock at 98 % mean fill rate and
cycle service achieved at a 95 % target.

    python benchmarks/bench_replenish.py [--quick] [--no-anchors] [--data-file PATH] [--all-series]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

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


def statsforecast_models(quick: bool) -> list[object]:
    from statsforecast.models import AutoARIMA as SfAutoARIMA
    from statsforecast.models import AutoTheta
    from statsforecast.models import SeasonalNaive as SfSeasonalNaive

    models: list[object] = [
        SfSeasonalNaive(season_length=SEASON, alias="sf_SeasonalNaive"),
        AutoTheta(season_length=SEASON, alias="sf_AutoTheta"),
    ]
    models.append(SfAutoARIMA(season_length=SEASON, alias="sf_AutoARIMA"))
    return models


def run_anchors(train: pd.DataFrame, test: pd.DataFrame, *, with_arima: bool) -> pd.DataFrame:
    out = test[["unique_id", "ds"]].copy()
    try:
        from statsforecast import StatsForecast

        models = statsforecast_models(False)
        if not with_arima:
            models = models[:2]
        sf = StatsForecast(models=models, freq="W-FRI", n_jobs=1)
        fc = sf.forecast(df=train[["unique_id", "ds", "y"]], h=H)
        out = out.merge(
            fc.reset_index() if "unique_id" not in fc else fc, on=["unique_id", "ds"], how="left"
        )
    except Exception as exc:  # anchors must never be skipped silently
        emit("anchor", "statsforecast_failed", float("nan"), note=repr(exc)[:200])
    try:
        import lightgbm as lgb

        cfg = ReplenishConfig()
        panel, _ = prepare_panel(train, cfg, ["is_holiday"])
        scales = series_scales(panel, SEASON)
        rows = build_rows(panel, SEASON, H, scales, train=True)
        ok = ~np.isnan(rows.target)
        model = lgb.LGBMRegressor(
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


def engine_models(quick: bool) -> dict[str, object]:
    trees = 60 if quick else 400
    epochs = 2 if quick else 30
    xgb = XGBoostForecaster(horizon=H, n_estimators=trees, n_jobs=2)
    arima = AutoARIMA()
    lstm = LSTMForecaster(horizon=H, epochs=epochs)
    zhang_lstm = LSTMForecaster(horizon=H, seasonal=False, epochs=epochs, alias="LSTM")
    return {
        "arima": arima,
        "xgb": xgb,
        "lstm": lstm,
        "zhang": ZhangHybrid(AutoARIMA(), zhang_lstm),
        "combo": CombinationForecaster(
            [xgb.clone(), arima.clone(), lstm.clone()], horizon=H, n_windows=2
        ),
    }


def forecast_block(
    df: pd.DataFrame,
    quick: bool,
    anchors: bool,
    tag: str,
    origins: list[int],
    with_arima_anchor: bool,
) -> None:
    for origin in origins:
        train, test = split(df, origin)
        table = test[["unique_id", "ds", "y"]].copy()
        names = []
        for key, model in engine_models(quick).items():
            if tag == "all" and key in ("zhang", "combo", "lstm", "arima"):
                continue
            t0, w0 = time.process_time(), time.perf_counter()
            fitted = model.clone()
            exog = ["is_holiday"] if key in ("xgb", "combo") else []
            fitted.fit(train, exog_cols=exog)
            fc = fitted.predict(H, X_future=test if exog else None)
            cpu = time.process_time() - t0
            emit(
                f"{tag}_o{origin}",
                f"cpu_s_{key}",
                cpu,
                note=f"wall {time.perf_counter() - w0:.1f}s",
            )
            if key == "arima":
                emit(
                    f"{tag}_o{origin}",
                    "arima_cpu_s_per_series",
                    cpu / train["unique_id"].nunique(),
                    0.5,
                )
            if key == "combo":
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
            anc = run_anchors(train, test, with_arima=with_arima_anchor)
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


def inventory_block(df: pd.DataFrame, quick: bool) -> None:
    ids = sample_ids(df, 10 if quick else 50)
    data = df[df["unique_id"].isin(ids)]
    n_sim = 8 if quick else 26
    trees = 60 if quick else 300
    for name, model in (
        ("SeasonalNaive", SeasonalNaive()),
        ("XGBoost", XGBoostForecaster(horizon=2, n_estimators=trees, n_jobs=2)),
    ):
        t0 = time.process_time()
        cv = cross_validation(
            [model],
            data,
            h=2,
            n_windows=2 * n_sim,
            step=1,
            exog_cols=["is_holiday"] if name == "XGBoost" else [],
            refit=False,
        )
        cutoffs = np.sort(cv["cutoff"].unique())
        calib = cv[cv["cutoff"].isin(cutoffs[:n_sim])]
        sim = cv[cv["cutoff"].isin(cutoffs[n_sim:])]
        errors = cumulative_errors(calib, name, cover=2)
        sim_sum = cumulative_errors(sim, name, cover=2)
        forecast = (
            sim_sum.pivot_table(
                index="unique_id", columns="cutoff", values="forecast", aggfunc="first"
            )
            .loc[ids]
            .to_numpy()
        )
        demand = (
            sim.sort_values("ds")
            .groupby(["unique_id", "cutoff"])
            .head(1)
            .pivot_table(index="unique_id", columns="cutoff", values="y", aggfunc="first")
            .loc[ids]
            .to_numpy()
        )

        def run(
            level: float,
            errors: pd.DataFrame = errors,
            demand: np.ndarray = demand,
            forecast: np.ndarray = forecast,
        ) -> dict[str, float]:
            ss = (
                safety_stock(errors, level)
                .set_index("unique_id")
                .loc[ids, "safety_stock"]
                .to_numpy()
            )
            return simulate_order_up_to(demand, forecast + ss[:, None], lead_time=1).summary()

        lo, hi = 0.5, 0.999
        for _ in range(25):  # service level that gives 98 % mean fill rate
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
        target = run(0.95)
        emit("inventory", f"cycle_service_at_95_{name}", target["cycle_service"], 0.95)
        emit("inventory", f"cpu_s_{name}", time.process_time() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="~10 series, one origin, tiny models (< 45 s)"
    )
    parser.add_argument("--no-anchors", action="store_true")
    parser.add_argument("--data-file", default=None)
    parser.add_argument(
        "--all-series", action="store_true", help="also XGBoost vs cheap anchors on every series"
    )
    parser.add_argument("--skip-inventory", action="store_true")
    args = parser.parse_args()
    df = load(args.data_file)
    sample = df[df["unique_id"].isin(sample_ids(df, 10 if args.quick else 100))]
    if args.quick and not args.no_anchors:
        emit(
            "anchor",
            "sf_AutoARIMA_skipped",
            float("nan"),
            note="--quick: numba compile + fits exceed the CI budget",
        )
    tag = "quick" if args.quick else "s100"
    forecast_block(
        sample, args.quick, not args.no_anchors, tag, [1] if args.quick else [1, 2], not args.quick
    )
    if args.all_series and not args.quick:
        forecast_block(df, False, not args.no_anchors, "all", [1], False)
    if not args.skip_inventory:
        inventory_block(df, args.quick)
    print("\n| bench | metric | value | anchor | ratio |\n|---|---|---|---|---|")
    for r in ROWS:
        print(f"| {r['bench']} | {r['metric']} | {r['value']} | {r['anchor']} | {r['ratio']} |")


if __name__ == "__main__":
    main()
