"""Benchmark of chainmall.segment against lifetimes and the RFM quintile sum, in the same run.

Protocol (docs/segment.md, ../shared/specs/benchmarks.md "RFM-L"):

* CDNOW sample: published BG/NBD, Pareto/NBD and Gamma-Gamma parameters.
* Discrete-time models: BG/BB on the 1995 donation cohort (Fader, Hardie &
  Shang 2010; lifetimes' BetaGeoBetaBinomFitter in the same run) and sBG on the
  regular / high-end retention data (Fader & Hardie 2007), against the papers.
* CDNOW master (or ``--data-file`` in the master format): calibration to
  ``--calibration-end``, holdout to ``--holdout-end`` (39 weeks); same-day rows
  merged; unit week. Holdout per-customer MAE / RMSE, total error and AUC of
  "buys again in holdout" for the default ``CustomerValueModel`` (its choices
  made on an inner split of the calibration period only), each BTYD model and
  lifetimes' fit of it, and the RFM quintile sum.
* Speed: a seeded synthetic log (10M rows / 1M customers; ``--quick``: 1M /
  100k) for summary + scores + segments and for fitting; lifetimes on the same
  data where it finishes, else on a stated subset.

``--write-logs DIR`` writes two more purchase logs in the master format for
``--data-file``: CDNOW master's odd customer ids, and a synthetic shop's paid
order lines (``make_shop(seed=0)``, calibration to 2024-12-31, holdout to
2025-09-30), and prints the commands.

Prints one JSON line per measurement, then a table per block. CPU seconds are
``time.process_time()``.

    python benchmarks/bench_segment.py [--quick] [--no-anchors] [--data-file PATH]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _report import Report
from sklearn.metrics import roc_auc_score

from chainmall.segment import (
    BetaGeo,
    BetaGeoBetaBinom,
    CustomerValueModel,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    RFMLConfig,
    ShiftedBetaGeometric,
    ValueConfig,
    segment_customers,
    summarize,
    survival_table,
)
from chainmall.segment.published import (
    DONATIONS_LOG_LIKELIHOOD,
    DONATIONS_PARAMS,
    RETENTION,
    RETENTION_FIT_YEARS,
    RETENTION_PARAMS,
    donations_1995,
)

REPORTS: dict[str, Report] = {}
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gg": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
TARGETS = {"mae": 0.78, "total_error": 0.08, "auc": 0.78}
BTYD = {"bgnbd": BetaGeo, "mbgnbd": ModifiedBetaGeo, "pareto": ParetoNBD}


def emit(
    bench: str,
    metric: str,
    value: Any,
    anchor: float | None = None,
    note: str = "",
    *,
    anchor_name: str | None = None,
    target: str | None = None,
) -> None:
    """One measurement: a JSON line now, a table row at the end (one table per block).

    Booleans are written as 1.0 (yes) / 0.0 (no).
    """
    report = REPORTS.setdefault(bench, Report(bench))
    number = None if value is None else round(float(value), 4)
    report.add(
        metric,
        number,
        anchor=None if anchor is None else round(float(anchor), 4),
        anchor_name=anchor_name,
        target=target,
        note=note or None,
    )


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, CPU s, wall s)."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def read_transactions(path: Path, sample_format: bool) -> pd.DataFrame:
    """CDNOW text (master: header + 4 columns; sample: no header, 5 columns) -> fen log."""
    if sample_format:
        names = ["customer_id", "sample_id", "date", "quantity", "amount"]
        frame = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype={0: str, 1: str})
    else:
        frame = pd.read_csv(path, sep=r"\s+", dtype={0: str})
        frame.columns = ["customer_id", "date", "quantity", "amount"]
    return pd.DataFrame(
        {
            "user_id": frame["customer_id"],
            "ts": pd.to_datetime(frame["date"].astype(str), format="%Y%m%d", utc=True),
            "amount_fen": np.rint(frame["amount"].to_numpy() * 100).astype(np.int64),
        }
    )


def lifetimes_summary(frame: pd.DataFrame, end: str) -> pd.DataFrame:
    from lifetimes.utils import summary_data_from_transaction_data

    data = frame.assign(date=frame.ts.dt.tz_localize(None), value=frame.amount_fen / 100)
    return summary_data_from_transaction_data(
        data,
        "user_id",
        "date",
        "value",
        observation_period_end=end,
        freq="D",
        freq_multiplier=7,
    )


def anchor_failed(bench: str, exc: Exception) -> None:
    """Say loudly that an anchor could not run (never skip one silently)."""
    print(f"ANCHOR UNAVAILABLE in {bench}: {exc!r}", flush=True)
    emit(bench, "lifetimes_error", None, note=repr(exc))


def published_parameters(sample: pd.DataFrame, anchors: bool) -> None:
    cfg = RFMLConfig(as_of="1997-09-30", timezone="UTC", time_unit="week")
    customers = summarize(sample, cfg).customers
    ours = {
        "bgnbd": BetaGeo().fit(customers).params_,
        "pareto": ParetoNBD().fit(customers).params_,
        "gg": dict(GammaGamma().fit(customers).params_),
    }
    ours["gg"]["gamma"] /= 100  # fen -> US$ to compare with the paper
    for model, params in PUBLISHED.items():
        digits = 2 if model == "gg" else 3
        for name, published in params.items():
            value = ours[model][name]
            emit(
                "cdnow_sample",
                f"{model}_{name}",
                value,
                published,
                anchor_name="published",
                target=f"equal to {digits} decimals",
                note="met" if round(value, digits) == published else "MISSED",
            )
    if not anchors:
        return
    try:
        from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

        lt = lifetimes_summary(sample, "1997-09-30")
        fitted = {
            "bgnbd": BetaGeoFitter().fit(lt.frequency, lt.recency, lt["T"]).params_,
            "pareto": ParetoNBDFitter().fit(lt.frequency, lt.recency, lt["T"]).params_,
        }
        repeat = lt[lt.frequency > 0]
        gg = GammaGammaFitter().fit(repeat.frequency, repeat.monetary_value).params_
        fitted["gg"] = {"p": gg["p"], "q": gg["q"], "gamma": gg["v"]}
        for model, params in fitted.items():
            for name, value in params.items():
                emit(
                    "cdnow_sample",
                    f"lifetimes_{model}_{name}",
                    value,
                    PUBLISHED[model][name],
                    anchor_name="published",
                )
    except Exception as exc:
        anchor_failed("cdnow_sample", exc)


def discrete_models(anchors: bool) -> None:
    """BG/BB on the donation cohort and sBG on the retention data, against the papers."""
    bench = "discrete"
    donations = donations_1995()
    model, cpu, _ = timed(lambda: BetaGeoBetaBinom().fit(donations, weight="count"))
    for name, published in DONATIONS_PARAMS.items():
        value = model.params_[name]
        met = round(value, 3) == published
        emit(
            bench,
            f"bgbb_{name}",
            value,
            published,
            "met" if met else "MISSED",
            anchor_name="published",
            target="equal to 3 decimals",
        )
    emit(
        bench,
        "bgbb_log_likelihood",
        model.log_likelihood_,
        DONATIONS_LOG_LIKELIHOOD,
        anchor_name="published",
        target="equal to 1 decimal",
    )
    emit(bench, "bgbb_fit_cpu_s", cpu)
    if anchors:
        try:
            from lifetimes import BetaGeoBetaBinomFitter

            lt, cpu_lt, _ = timed(
                lambda: BetaGeoBetaBinomFitter().fit(
                    donations.x, donations.t_x, donations["T"], weights=donations["count"]
                )
            )
            for name in DONATIONS_PARAMS:
                emit(
                    bench,
                    f"bgbb_{name}_vs_lifetimes",
                    model.params_[name],
                    float(lt.params_[name]),
                    anchor_name="lifetimes",
                )
            ours = model.expected_purchases(5, donations).to_numpy()
            theirs = lt.conditional_expected_number_of_purchases_up_to_time(
                5, donations.x, donations.t_x, donations["T"]
            ).to_numpy()
            emit(
                bench,
                "bgbb_expected_5y_max_abs_diff_vs_lifetimes",
                float(np.abs(ours - theirs).max()),
            )
            emit(bench, "bgbb_fit_cpu_s_vs_lifetimes", cpu, cpu_lt, anchor_name="lifetimes")
        except Exception as exc:
            anchor_failed(bench, exc)
    for segment, survivors in RETENTION.items():
        table = survival_table(survivors[: RETENTION_FIT_YEARS + 1])
        sbg = ShiftedBetaGeometric().fit(table, weight="count")
        for name, published in zip(("alpha", "beta"), RETENTION_PARAMS[segment], strict=True):
            value = sbg.params_[name]
            met = round(value, 3) == published
            emit(
                bench,
                f"sbg_{segment}_{name}",
                value,
                published,
                "met" if met else "MISSED",
                anchor_name="published",
                target="equal to 3 decimals",
            )
        projected = (
            sbg.survival(np.arange(RETENTION_FIT_YEARS + 1, len(survivors))).to_numpy() * 1000
        )
        actual = np.asarray(survivors[RETENTION_FIT_YEARS + 1 :])
        emit(
            bench,
            f"sbg_{segment}_years_8_12_max_rel_error",
            float(np.abs(projected / actual - 1).max()),
            note="years not used by the fit",
        )


def holdout_counts(frame: pd.DataFrame, start: str, end: str, ids: pd.Index) -> np.ndarray:
    inside = (frame.ts > pd.Timestamp(start, tz="UTC")) & (frame.ts <= pd.Timestamp(end, tz="UTC"))
    days = frame.loc[inside].assign(day=frame.ts.dt.floor("D"))
    counts = days.groupby("user_id").day.nunique()
    return counts.reindex(ids, fill_value=0).to_numpy()


def scores(predicted: np.ndarray, actual: np.ndarray, buy_score: np.ndarray) -> dict[str, float]:
    """Holdout MAE, RMSE, total error of a forecast and AUC of a "buys again" score."""
    return {
        "mae": float(np.abs(predicted - actual).mean()),
        "rmse": float(np.sqrt(((predicted - actual) ** 2).mean())),
        "total_error": float(predicted.sum() / actual.sum() - 1),
        "auc": float(roc_auc_score(actual > 0, buy_score)),
    }


def lifetimes_forecasts(
    frame: pd.DataFrame, cal_end: str, ids: pd.Index, horizon: float, bench: str
) -> dict[str, tuple[np.ndarray, float]]:
    """Each BTYD model as fitted by lifetimes: (expected purchases, fit CPU s)."""
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    lt = lifetimes_summary(frame, cal_end).reindex(ids)
    out = {}
    for key, cls in (
        ("bgnbd", BetaGeoFitter),
        ("mbgnbd", ModifiedBetaGeoFitter),
        ("pareto", ParetoNBDFitter),
    ):
        try:
            model, cpu, _ = timed(lambda c=cls: c().fit(lt.frequency, lt.recency, lt["T"]))
        except Exception as exc:
            anchor_failed(bench, RuntimeError(f"lifetimes {cls.__name__}: {exc!r}"))
            continue
        pred = model.conditional_expected_number_of_purchases_up_to_time(
            horizon, lt.frequency, lt.recency, lt["T"]
        ).to_numpy()
        if not np.isfinite(pred).all():
            bad = int((~np.isfinite(pred)).sum())
            anchor_failed(bench, RuntimeError(f"lifetimes {cls.__name__}: {bad} NaN forecasts"))
            continue
        out[key] = (pred, cpu)
    return out


def accuracy(frame: pd.DataFrame, cal_end: str, hold_end: str, anchors: bool, bench: str) -> None:
    """Holdout accuracy of the default value model, each BTYD model and the RFM sum."""
    cfg = RFMLConfig(as_of=cal_end, timezone="UTC", time_unit="week")
    calibration = frame[frame.ts <= pd.Timestamp(cal_end, tz="UTC")]
    customers = segment_customers(calibration, cfg).customers
    ids = pd.Index(customers.user_id)
    actual = holdout_counts(frame, cal_end, hold_end, ids)
    horizon = (pd.Timestamp(hold_end) - pd.Timestamp(cal_end)).days / 7
    emit(bench, "customers", len(ids), note=f"calibration to {cal_end}, holdout to {hold_end}")
    emit(bench, "holdout_customers_buying_share", float((actual > 0).mean()))
    naive = customers.x.to_numpy() / np.maximum(customers["T"].to_numpy(), 1e-9) * horizon
    for metric, value in scores(naive, actual, naive).items():
        emit(bench, f"naive_rate_{metric}", value)
    rfm = (customers.r_score + customers.f_score + customers.m_score).to_numpy(np.float64)
    rfm_auc = float(roc_auc_score(actual > 0, rfm))
    emit(bench, "rfm_quintile_sum_auc", rfm_auc)
    lt_models: dict[str, Any] = {}
    if anchors:
        try:
            lt_models = lifetimes_forecasts(frame, cal_end, ids, horizon, bench)
        except Exception as exc:
            anchor_failed(bench, exc)
    btyd: dict[str, dict[str, float]] = {}
    for key, cls in BTYD.items():
        model, cpu, _ = timed(lambda c=cls: c().fit(customers))
        predicted = model.expected_purchases(horizon, customers).to_numpy()
        btyd[key] = scores(predicted, actual, predicted)
        btyd[key]["auc_p_buy"] = float(
            roc_auc_score(actual > 0, -model.p_no_purchase(horizon, customers).to_numpy())
        )
        anchor: dict[str, float] = {}
        if key in lt_models:
            pred_lt, cpu_lt = lt_models[key]
            anchor = scores(pred_lt, actual, pred_lt)
            emit(bench, f"{key}_fit_cpu_s", cpu, cpu_lt, anchor_name="lifetimes")
        for metric, value in btyd[key].items():
            same = anchor.get(metric)
            emit(
                bench,
                f"{key}_{metric}",
                value,
                same,
                anchor_name=None if same is None else "lifetimes",
            )
    value_model(calibration, cal_end, actual, ids, horizon, btyd, rfm_auc, bench)


def value_model(
    calibration: pd.DataFrame,
    cal_end: str,
    actual: np.ndarray,
    ids: pd.Index,
    horizon: float,
    btyd: dict[str, dict[str, float]],
    rfm_auc: float,
    bench: str,
) -> None:
    """The default CustomerValueModel against the best BTYD model and the RFM sum."""
    cfg = ValueConfig(rfml=RFMLConfig(as_of=cal_end, timezone="UTC", time_unit="week"))
    model, cpu, wall = timed(lambda: CustomerValueModel(cfg).fit(calibration))
    forecast = model.predict(horizon).set_index("user_id").reindex(ids)
    ours = scores(forecast.expected_purchases.to_numpy(), actual, forecast.p_buy.to_numpy())
    chosen = f"family {model.family_}, buys {model.buys_method_}, count {model.count_method_}"
    emit(bench, "value_model_fit_cpu_s", cpu, note=f"wall {wall:.1f}s; {chosen}")
    for row in model.selection_.itertuples():
        emit(
            bench,
            f"value_inner_{row.output}_{row.candidate}_{row.metric}",
            row.value,
            note="inner split of the calibration period",
        )
    best = {
        "mae": min(b["mae"] for b in btyd.values()),
        "rmse": min(b["rmse"] for b in btyd.values()),
        "total_error": min((b["total_error"] for b in btyd.values()), key=abs),
        "auc": max(max(b["auc"], b["auc_p_buy"]) for b in btyd.values()),
    }
    for metric, value in ours.items():
        emit(bench, f"value_model_{metric}", value, best[metric], anchor_name="best BTYD")
    emit(bench, "value_model_auc_vs_rfm", ours["auc"], rfm_auc, anchor_name="RFM quintile sum")
    anchors = {
        "mae": best["mae"],
        "total_error": abs(best["total_error"]),
        "auc": -max(best["auc"], rfm_auc),  # larger AUC is better: compare negatives
    }
    for metric, target in TARGETS.items():
        value = abs(ours[metric]) if metric == "total_error" else ours[metric]
        loss = -value if metric == "auc" else value
        verdict = "tie" if abs(loss - anchors[metric]) < 5e-5 else "no"
        verdict = "yes" if loss < anchors[metric] and verdict != "tie" else verdict
        emit(bench, f"value_model_beats_anchors_{metric}", verdict == "yes", note=verdict)
        met = value >= target if metric == "auc" else value <= target
        emit(
            bench,
            f"value_model_target_{metric}_met",
            met,
            target=f"{'>=' if metric == 'auc' else '<='} {target}",
            note="met" if met else "MISSED",
        )


def write_logs(folder: Path, master: Path) -> None:
    """Two more purchase logs in the master format, for ``--data-file``."""
    from chainmall.datasets import make_shop

    folder.mkdir(parents=True, exist_ok=True)
    header = " customer_id  date number_of_cds  dollar_value\n"
    raw = pd.read_csv(master, sep=r"\s+", dtype={0: str})
    odd = raw[raw.iloc[:, 0].astype(int) % 2 == 1]
    shop = make_shop(seed=0, n_members=20_000, months=21, start="2024-01-01")
    lines = shop.order_lines
    paid = pd.DataFrame(
        {
            "customer_id": lines.user_id.map("{:05d}".format),
            "date": lines.paid_at.dt.strftime("%Y%m%d"),
            "quantity": lines.quantity,
            "amount": (lines.paid_fen / 100).map("{:.2f}".format),
        }
    )
    runs = {
        "cdnow_odd_ids.txt": (odd, ""),
        "shop_seed0.txt": (paid, " --calibration-end 2024-12-31 --holdout-end 2025-09-30"),
    }
    for name, (table, dates) in runs.items():
        with (folder / name).open("w", encoding="utf-8") as handle:
            handle.write(header)
            table.to_csv(handle, sep=" ", header=False, index=False)
        print(f"python benchmarks/bench_segment.py --data-file {folder / name}{dates}")


def synthetic_log(n_customers: int, seed: int = 0) -> pd.DataFrame:
    """Pareto/NBD-style log: ~10 rows per customer over two years; amounts in fen."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 365, n_customers)  # first purchase day
    horizon = 730 - start
    rate = rng.gamma(1.2, 0.146 / 7, n_customers)  # purchases per day: Gamma(r=1.2, α≈6.7 wk)
    lifetime = rng.exponential(1.0 / rng.gamma(0.8, 0.02 / 7, n_customers))  # s=.8, β≈50 wk
    active = np.minimum(lifetime, horizon)
    counts = rng.poisson(rate * active) + 1
    owner = np.repeat(np.arange(n_customers), counts)
    offset = rng.random(len(owner)) * np.repeat(active, counts)
    offset[np.concatenate(([0], np.cumsum(counts)[:-1]))] = 0.0  # the first purchase
    day = np.repeat(start, counts) + offset.astype(np.int64)
    seconds = day * 86_400 + rng.integers(0, 86_400, len(owner))
    origin = pd.Timestamp("2024-01-01", tz="Asia/Shanghai").value
    ts = pd.to_datetime(seconds * 1_000_000_000 + origin, utc=True)
    spend = rng.gamma(6.0, 1.0, n_customers) * 2_000
    amount = np.rint(rng.gamma(6.0, np.repeat(spend, counts) / 6.0)).astype(np.int64)
    return pd.DataFrame({"user_id": owner + 1_000_000, "ts": ts, "amount_fen": amount})


def speed(n_customers: int, anchors: bool) -> None:
    frame = synthetic_log(n_customers)
    tag = f"synthetic_{len(frame) / 1e6:.1f}M_rows_{n_customers // 1000}k_customers"
    emit(tag, "rows", len(frame))
    result, cpu, wall = timed(lambda: segment_customers(frame, RFMLConfig()))
    customers = result.customers
    emit(
        tag,
        "summary_scores_segments_cpu_s",
        round(cpu, 3),
        18.0 if n_customers >= 10**6 else None,
        note=f"wall {wall:.2f}s; anchor = lifetimes summary only, spec figure for 10M/1M",
        anchor_name="lifetimes (spec)" if n_customers >= 10**6 else None,
        target="<= 3 CPU-s for 10M/1M",
    )
    for name, cls in (("bgnbd", BetaGeo), ("mbgnbd", ModifiedBetaGeo), ("pareto", ParetoNBD)):
        model, cpu, wall = timed(lambda c=cls: c().fit(customers))
        emit(
            tag,
            f"{name}_fit_cpu_s",
            round(cpu, 3),
            None,
            note=f"wall {wall:.2f}s, {model.n_patterns_} patterns",
        )
    if not anchors:
        return
    try:
        from lifetimes import BetaGeoFitter, ParetoNBDFitter
        from lifetimes.utils import summary_data_from_transaction_data

        subset_ids = frame.user_id.drop_duplicates().iloc[: max(n_customers // 10, 1000)]
        sub = frame[frame.user_id.isin(subset_ids)]
        sub = sub.assign(date=sub.ts.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None))
        sub_tag = f"{tag}_lifetimes_subset_{len(subset_ids) // 1000}k"
        _, cpu_lt, _ = timed(
            lambda: summary_data_from_transaction_data(
                sub, "user_id", "date", "amount_fen", freq="D", freq_multiplier=7
            )
        )
        sub_frame = sub.drop(columns="date")
        _, cpu_ours, _ = timed(lambda: segment_customers(sub_frame, RFMLConfig()))
        emit(
            sub_tag,
            "summary_cpu_s",
            round(cpu_ours, 3),
            round(cpu_lt, 3),
            note="ours = summary+scores+segments, anchor = lifetimes summary",
            anchor_name="lifetimes",
        )
        lt_bg, cpu_lt_bg, _ = timed(
            lambda: BetaGeoFitter().fit(customers.x, customers.t_x, customers["T"])
        )
        emit(
            tag,
            "bgnbd_fit_cpu_s_vs_lifetimes",
            round(timed(lambda: BetaGeo().fit(customers))[1], 3),
            round(cpu_lt_bg, 3),
            note=f"lifetimes r={lt_bg.params_['r']:.4f}",
            anchor_name="lifetimes",
        )
        part = customers.iloc[: len(subset_ids)]
        _, cpu_lt_p, _ = timed(lambda: ParetoNBDFitter().fit(part.x, part.t_x, part["T"]))
        _, cpu_p, _ = timed(lambda: ParetoNBD().fit(part))
        emit(sub_tag, "pareto_fit_cpu_s", cpu_p, cpu_lt_p, anchor_name="lifetimes")
    except Exception as exc:
        anchor_failed(tag, exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-file", type=Path, help="transactions in CDNOW_master.txt format")
    parser.add_argument("--no-anchors", action="store_true", help="skip lifetimes")
    parser.add_argument("--quick", action="store_true", help="small synthetic log (CI)")
    parser.add_argument("--calibration-end", default="1997-09-30")
    parser.add_argument("--holdout-end", default="1998-06-30")
    parser.add_argument("--write-logs", type=Path, help="write the extra logs here and stop")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    anchors = not args.no_anchors
    home = Path(
        os.environ.get("CHAINMALL_DATA", Path(__file__).resolve().parents[2] / "shared/data")
    )
    master = home / "cdnow" / "CDNOW_master.txt"
    if args.write_logs is not None:
        write_logs(args.write_logs, master)
        return
    sample_path = home / "cdnow" / "CDNOW_sample.txt"
    if args.data_file is None and sample_path.is_file():
        published_parameters(read_transactions(sample_path, sample_format=True), anchors)
        discrete_models(anchors)
    else:
        emit(
            "cdnow_sample",
            "published_parameters",
            None,
            note="skipped: --data-file given or CDNOW_sample.txt not found",
        )
    log = args.data_file or master
    bench = "master" if args.data_file is None else f"file:{log.name}"
    if log.is_file():
        transactions = read_transactions(log, sample_format=False)
        accuracy(transactions, args.calibration_end, args.holdout_end, anchors, bench)
    else:
        emit(bench, "accuracy", None, note=f"skipped: {log} not found")
    if args.data_file is None:
        speed(100_000 if args.quick else 1_000_000, anchors)
    for name, report in REPORTS.items():
        print(f"\n{name}")
        report.table()


if __name__ == "__main__":
    main()
