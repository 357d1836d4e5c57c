"""Collaborative filtering: rating prediction and top-N recommendation.

Build an :class:`Interactions` from a long frame, fit any model
(``fit(interactions) -> self``), then ``predict(pairs)``, ``recommend(users, k)``,
``similar_items(items, k)``, ``save(path)`` / ``Model.load(path)``.

Rating models: :class:`BaselinePredictor`, :class:`KNNBaseline` (item or user),
:class:`MatrixFactorization`, :class:`RatingBlend` (the default: stacking with a
fallback to its best member). Implicit top-N models: :class:`ImplicitALS`,
:class:`EASE` (the default: ``partial_fit`` for new users, items and rows, and
cold start from item features). Every model's ``recommend`` takes an allow list
(``items``) and a deny list (``exclude_items``).

Reinforcement learning (``pip install "chainmall[torch]"``): a slate simulator
built from ratings (:func:`build_simulation`, :func:`run_episodes`), baseline
policies, :class:`DDPGRecommender`, and ``RecommendationEnv`` (Gymnasium;
loaded lazily, so ``import chainmall.recommend`` needs neither torch nor gymnasium).
"""

from typing import Any

from chainmall._deprecation import renamed_attribute
from chainmall.recommend._base import Recommender
from chainmall.recommend.bandits import (
    EASEPolicy,
    EmbeddingGreedyPolicy,
    EpsilonGreedyPolicy,
    ItemKNNPolicy,
    LinUCBPolicy,
    OraclePolicy,
    PopularityPolicy,
    RandomPolicy,
)
from chainmall.recommend.baseline import BaselinePredictor, RatingModel
from chainmall.recommend.blend import RatingBlend
from chainmall.recommend.click_models import SimulationData, SimulatorConfig, build_simulation
from chainmall.recommend.config import (
    ALSConfig,
    BaselineConfig,
    BlendConfig,
    EASEConfig,
    InteractionsConfig,
    KNNConfig,
    MFConfig,
)
from chainmall.recommend.ddpg import DDPGConfig, DDPGRecommender
from chainmall.recommend.evaluation import LeaveLastOut, kfold_splits, leave_last_out, rank_holdout
from chainmall.recommend.implicit_models import EASE, ImplicitALS
from chainmall.recommend.interactions import Interactions
from chainmall.recommend.knn import KNNBaseline
from chainmall.recommend.mf import MatrixFactorization
from chainmall.recommend.rl_eval import (
    PairedTest,
    PolicyMetrics,
    bootstrap_ci,
    paired_difference,
    per_user_metrics,
    summarize_episodes,
)
from chainmall.recommend.simulator import (
    EpisodeLog,
    EpisodeState,
    SlatePolicy,
    SlateSimulator,
    run_episodes,
)

__all__ = [
    "EASE",
    "ALSConfig",
    "BaselineConfig",
    "BaselinePredictor",
    "BlendConfig",
    "DDPGConfig",
    "DDPGRecommender",
    "EASEConfig",
    "EASEPolicy",
    "EmbeddingGreedyPolicy",
    "EpisodeLog",
    "EpisodeState",
    "EpsilonGreedyPolicy",
    "ImplicitALS",
    "Interactions",
    "InteractionsConfig",
    "ItemKNNPolicy",
    "KNNBaseline",
    "KNNConfig",
    "LeaveLastOut",
    "LinUCBPolicy",
    "MFConfig",
    "MatrixFactorization",
    "OraclePolicy",
    "PairedTest",
    "PolicyMetrics",
    "PopularityPolicy",
    "RandomPolicy",
    "RatingBlend",
    "RatingModel",
    "RecommendationEnv",
    "Recommender",
    "SimulationData",
    "SimulatorConfig",
    "SlatePolicy",
    "SlateSimulator",
    "bootstrap_ci",
    "build_simulation",
    "kfold_splits",
    "leave_last_out",
    "paired_difference",
    "per_user_metrics",
    "rank_holdout",
    "run_episodes",
    "summarize_episodes",
]

_RENAMED = {"summarize": "summarize_episodes"}


def __getattr__(name: str) -> Any:
    """``RecommendationEnv`` imports gymnasium, so it is loaded on first use."""
    if name == "RecommendationEnv":
        from chainmall._optional import import_optional

        import_optional("gymnasium", extra="torch")
        from chainmall.recommend.gym_env import RecommendationEnv

        return RecommendationEnv
    return renamed_attribute(globals(), __name__, _RENAMED, name)
