"""Collaborative filtering: rating prediction and top-N recommendation.

Build an :class:`Interactions` from a long frame, fit any model
(``fit(interactions) -> self``), then ``predict(pairs)``, ``recommend(users, k)``,
``similar_items(items, k)``, ``save(path)`` / ``Model.load(path)``.

Rating models: :class:`BaselinePredictor`, :class:`KNNBaseline` (item or user),
:class:`MatrixFactorization`, :class:`RatingBlend`. Implicit top-N models:
:class:`ImplicitALS`, :class:`EASE`.
"""

from chainmall.recommend._base import Recommender
from chainmall.recommend.baseline import BaselinePredictor, RatingModel
from chainmall.recommend.blend import RatingBlend
from chainmall.recommend.config import (
    ALSConfig,
    BaselineConfig,
    BlendConfig,
    EASEConfig,
    InteractionsConfig,
    KNNConfig,
    MFConfig,
)
from chainmall.recommend.evaluation import LeaveLastOut, kfold_splits, leave_last_out, rank_holdout
from chainmall.recommend.implicit_models import EASE, ImplicitALS
from chainmall.recommend.interactions import Interactions
from chainmall.recommend.knn import KNNBaseline
from chainmall.recommend.mf import MatrixFactorization

__all__ = [
    "EASE",
    "ALSConfig",
    "BaselineConfig",
    "BaselinePredictor",
    "BlendConfig",
    "EASEConfig",
    "ImplicitALS",
    "Interactions",
    "InteractionsConfig",
    "KNNBaseline",
    "KNNConfig",
    "LeaveLastOut",
    "MFConfig",
    "MatrixFactorization",
    "RatingBlend",
    "RatingModel",
    "Recommender",
    "kfold_splits",
    "leave_last_out",
    "rank_holdout",
]
