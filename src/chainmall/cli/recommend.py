"""``chainmall recommend fit|recommend``: collaborative filtering from a ratings file.

``fit INPUT MODEL_DIR`` reads ratings or interactions (``user_id, item_id`` and
optionally ``rating``, ``ts``) and saves the fitted model to a folder;
``recommend MODEL_DIR`` writes the top ``--top`` items per user
(``user_id, item_id, score, rank, user_known``) as CSV or JSON.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from chainmall.cli._io import (
    add_io_arguments,
    apply_columns,
    echo,
    localize,
    parse_columns,
    read_frame,
    write_frame,
)
from chainmall.exceptions import ConfigError

__all__ = ["MODELS", "add_commands"]

COLUMNS = ("user_id", "item_id", "rating", "ts")
MODELS = {
    "ease": "EASE",
    "als": "ImplicitALS",
    "blend": "RatingBlend",
    "baseline": "BaselinePredictor",
    "knn": "KNNBaseline",
    "mf": "MatrixFactorization",
}
"""``--model`` choices and the :mod:`chainmall.recommend` class each names."""


def _model_class(name: str) -> Any:
    from chainmall import recommend

    return getattr(recommend, MODELS[name])


def _fit(args: argparse.Namespace) -> int:
    from chainmall.recommend import Interactions, InteractionsConfig

    mapping = parse_columns(args.columns, COLUMNS)
    frame = read_frame(args.input, text=[mapping.get(c, c) for c in ("user_id", "item_id")])
    frame = apply_columns(frame, mapping, name=args.input)
    if "ts" in frame.columns:
        frame = localize(frame, "ts", args.tz)
    cls = _model_class(args.model)
    implicit = args.implicit or "rating" not in frame.columns
    if implicit and cls.rating_model:
        raise ConfigError(
            f"--model {args.model} predicts ratings and needs a rating column; "
            "add one (or map it with --columns rating=COLUMN), or use --model ease or als"
        )
    config = InteractionsConfig(
        rating_col=None if implicit else "rating",
        ts_col="ts" if "ts" in frame.columns else None,
        duplicates=args.duplicates,
    )
    interactions = Interactions.from_frame(frame, config)
    model = cls().fit(interactions, progress=args.progress)
    folder = model.save(args.model_dir)
    echo(
        f"{MODELS[args.model]} fitted on {interactions.n_users:,} users × "
        f"{interactions.n_items:,} items ({interactions.matrix.nnz:,} interactions), "
        f"saved to {folder}"
    )
    if len(interactions.rejected):
        echo(f"{len(interactions.rejected):,} rows not used (duplicates; see --duplicates)")
    return 0


def _users(args: argparse.Namespace, model: Any) -> Any:
    """The users to recommend for: ``--users`` file, ``--user`` ids, or every known user."""
    import numpy as np

    known = model.interactions_.user_ids
    if args.users is not None:
        mapping = parse_columns(args.columns, COLUMNS)
        frame = apply_columns(
            read_frame(args.users, text=[mapping.get("user_id", "user_id")]),
            mapping,
            name=args.users,
        )
        if "user_id" not in frame.columns:
            raise ConfigError(
                f"{args.users!r} has no user_id column; name it with --columns user_id=COLUMN"
            )
        values = frame["user_id"].to_numpy()
    elif args.user:
        values = np.asarray(args.user)
    else:
        return known
    if np.issubdtype(known.dtype, np.integer) and values.dtype.kind in "OUS":
        # ids of a Parquet file are integers; ones given as text are compared as such
        # (text that is not an integer stays an unknown user, who gets popular items)
        with contextlib.suppress(ValueError):
            values = values.astype(known.dtype)
    return values


def _recommend(args: argparse.Namespace) -> int:
    model = _model_class(args.model).load(args.model_dir)
    top = model.recommend(_users(args, model), k=args.top, exclude_seen=not args.keep_seen)
    write_frame(top, args.out, as_json=args.json)
    return 0


def add_commands(commands: Any) -> None:
    """Add ``recommend fit`` and ``recommend recommend`` to the ``chainmall`` parser."""
    parser = commands.add_parser("recommend", help="fit a recommender, write top-N lists")
    sub = parser.add_subparsers(dest="recommend_command", required=True, metavar="COMMAND")
    model_help = f"model: {', '.join(MODELS)} (default ease; rating models need a rating column)"

    fit = sub.add_parser("fit", help="fit a model on a ratings/interactions file and save it")
    fit.add_argument("input", help="CSV/Parquet: user_id, item_id[, rating][, ts]")
    fit.add_argument("model_dir", help="folder to save the fitted model to")
    fit.add_argument("--model", choices=list(MODELS), default="ease", help=model_help)
    fit.add_argument(
        "--implicit",
        action="store_true",
        help="ignore the rating column: every row is one interaction",
    )
    fit.add_argument(
        "--duplicates",
        choices=["raise", "keep_latest", "sum"],
        default="raise",
        help="repeated (user, item) rows: refuse (default), keep the latest (needs ts), "
        "or add them up",
    )
    fit.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    add_io_arguments(fit, COLUMNS, output=False)
    fit.set_defaults(run=_fit)

    rec = sub.add_parser("recommend", help="top-N items per user from a saved model")
    rec.add_argument("model_dir", help="folder written by 'chainmall recommend fit'")
    rec.add_argument("--model", choices=list(MODELS), default="ease", help=model_help)
    rec.add_argument("--top", type=int, default=10, help="items per user (default 10)")
    rec.add_argument("--users", help="CSV/Parquet with a user_id column (default: every user)")
    rec.add_argument("--user", action="append", help="a user id (repeat for several)")
    rec.add_argument(
        "--keep-seen", action="store_true", help="also recommend items the user already has"
    )
    add_io_arguments(rec, COLUMNS, timestamps=False)
    rec.set_defaults(run=_recommend)
