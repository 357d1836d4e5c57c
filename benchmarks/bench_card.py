"""Business-card reading benchmark: field precision/recall on generated cards.

No labelled public card set exists and no library does this job end to end, so
the anchor is the raw OCR text read by a naive regex baseline (first 11-digit
``1[3-9]`` run, first ``0xx-xxxxxxxx``, first ``x@y.z``, first ``www.``, first
line with 公司/Ltd/Inc; no name, title or address) — what a shop gets from
"OCR, then grep". Cards are seeded renders (:mod:`chainmall.card.synth`) with
known truth: Noto Sans CJK, three layouts, label styles, noise, blur, rotation.

    python benchmarks/bench_card.py              # 100 cards (50 zh, 50 en)
    python benchmarks/bench_card.py --quick      # 6 cards
    python benchmarks/bench_card.py --data-file cards.csv   # your own: card_id,image,<fields>

CPU seconds include the OCR child process (tesseract runs as a subprocess).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _report import Report, peak_rss_mb

from chainmall.card import (
    CONTACT_FIELDS,
    RapidOcrBackend,
    TesseractBackend,
    card_lines,
    default_backend,
    extract_contact,
    field_scores,
    find_cjk_font,
    make_card_truth,
    render_card,
)
from chainmall.card.ocr import OcrBackend
from chainmall.exceptions import ChainmallError

FIELDS = [f for f in CONTACT_FIELDS if f != "fax"]


def naive_extract(text: str) -> dict[str, str | None]:
    """The anchor: plain regexes over the raw OCR text, no normalisation or layout rules."""

    def first(pattern: str) -> str | None:
        m = re.search(pattern, text)
        return m.group(0) if m else None

    company = next((ln for ln in text.splitlines() if re.search("公司|Ltd|Inc", ln)), None)
    return {
        "name": None,
        "title": None,
        "company": company,
        "mobile": first(r"1[3-9]\d{9}"),
        "landline": first(r"0\d{2,3}-\d{7,8}"),
        "email": first(r"[\w.+-]+@[\w-]+\.[\w.]+"),
        "website": first(r"www\.[\w.-]+"),
        "address": None,
    }


def skipped(reason: str) -> None:
    """Say loudly that the OCR part did not run (a system package is missing)."""
    print(f"SKIPPED: OCR benchmark: {reason}", file=sys.stderr)
    print(json.dumps({"bench": "card", "metric": "ocr", "skipped": True, "reason": reason}))


def cpu_now() -> float:
    """CPU seconds of this process and its finished children (the OCR subprocesses)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pick_backend(name: str) -> OcrBackend:
    if name == "tesseract":
        return TesseractBackend()
    if name == "rapidocr":
        return RapidOcrBackend()
    return default_backend()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 cards (CI)")
    parser.add_argument("--cards", type=int, default=None, help="number of generated cards")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=["auto", "tesseract", "rapidocr"], default="auto")
    parser.add_argument("--data-file", help="CSV: card_id, image (path), and truth columns")
    parser.add_argument("--no-anchors", action="store_true", help="skip the naive regex baseline")
    args = parser.parse_args()
    report = Report("card")

    if args.data_file:
        truth = pd.read_csv(args.data_file, dtype=str)
        images = [Path(args.data_file).parent / p for p in truth.pop("image")]
        clean = None
    else:
        n = args.cards or (6 if args.quick else 100)
        truth = make_card_truth(n, seed=args.seed)
        images = None
        clean = pd.DataFrame(
            [
                {
                    "card_id": row["card_id"],
                    **extract_contact([t for _, t in card_lines(row, seed=i)]).as_record(),
                }
                for i, row in truth.iterrows()
            ]
        )
        scores = field_scores(clean, truth, FIELDS)
        report.add(
            "clean_text_f1_macro",
            float(scores["f1"].mean()),
            note=f"{n} cards, printed text without OCR (upper bound of the rules)",
        )

    try:
        backend = pick_backend(args.backend)
        if images is None:
            find_cjk_font()  # rendering the generated cards needs a CJK font
    except ChainmallError as exc:
        skipped(str(exc))
        report.table()
        return
    ours, naive, wall, cpu = [], [], 0.0, 0.0
    for i, row in truth.iterrows():
        image = images[i] if images is not None else np.asarray(render_card(row, seed=i))
        w0, c0 = time.perf_counter(), cpu_now()
        try:
            lines = [line.text for line in backend.read(image)]
        except ChainmallError as exc:
            print(
                json.dumps({"bench": "card", "card_id": str(row["card_id"]), "ocr_error": str(exc)})
            )
            lines = []
        wall, cpu = wall + time.perf_counter() - w0, cpu + cpu_now() - c0
        text = "\n".join(lines)
        record = extract_contact(lines).as_record() if text.strip() else dict.fromkeys(FIELDS)
        ours.append({"card_id": row["card_id"], **record})
        naive.append({"card_id": row["card_id"], **naive_extract(text)})
    n_cards = len(truth)
    report.add("ocr_wall_s_per_card", wall / n_cards, note=f"backend {backend.name}")
    report.add("ocr_cpu_s_per_card", cpu / n_cards, note="includes the OCR subprocess")
    ours_scores = field_scores(pd.DataFrame(ours), truth, FIELDS).set_index("field")
    naive_scores = (
        None
        if args.no_anchors
        else field_scores(pd.DataFrame(naive), truth, FIELDS).set_index("field")
    )
    for field in FIELDS:
        for stat in ("precision", "recall"):
            anchor = None if naive_scores is None else float(naive_scores.loc[field, stat])
            report.add(
                f"{field}_{stat}",
                float(ours_scores.loc[field, stat]),
                anchor=None if anchor is None or np.isnan(anchor) else anchor,
                anchor_name=None if naive_scores is None else "OCR + naive regex",
            )
    report.add(
        "field_f1_macro",
        float(ours_scores["f1"].mean()),
        anchor=None if naive_scores is None else float(naive_scores["f1"].fillna(0).mean()),
        anchor_name=None if naive_scores is None else "OCR + naive regex",
        note=f"{n_cards} cards, backend {backend.name}",
    )
    report.add("peak_rss_mb", peak_rss_mb())
    report.table()


if __name__ == "__main__":
    main()
