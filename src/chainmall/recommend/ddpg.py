"""DDPG slate recommender trained in the user simulator (torch, extra ``torch``).

Training uses only what agents may see: the logged ratings of the TRAIN users
(:meth:`SimulationData.logged`) and simulator episodes of TRAIN users.
Validation users are used only to choose between the pre-trained and the
fine-tuned weights (by simulated CTR); test users are never touched.

0. **Base scorer**: greedy EASE (:class:`~chainmall.recommend.EASEPolicy`)
   fitted on the logged positives only; its per-user scores, z-scored over
   items, are the backbone of the actor's scoring, so an untrained actor
   (zero residual) *is* greedy EASE.
1. **Warm start**: item embeddings from collaborative filtering (implicit ALS
   on the logged positives unless given), standardised; the scoring table
   ``E_out = [E, b]`` adds a popularity bias column ``b`` (z-scored
   ``log(1 + positives)``).
2. **Behaviour cloning** on logged data: for a train user, the state holds
   the visible positives and a random subset of the later positives as
   "clicks"; the actor is trained so that ``softmax(a·E_out)`` over the items
   not yet in the state puts mass on the remaining later positives
   (multinomial log-likelihood).
3. **Critic pre-training**: episodes of train users under the cloned actor
   with Gaussian exploration noise fill the replay buffer; the critic is fitted
   by TD(0) before the actor moves.
4. **DDPG**: ``y = r + γ (1 − done) Q'(s', μ'(s'))``; critic loss ``(Q(s, a) − y)²``;
   actor loss ``−Q(s, μ(s)) / mean|Q| + bc_weight · BC loss`` (the BC term keeps
   the policy near the logged behaviour); target networks follow with soft
   updates ``θ' ← τ θ + (1 − τ) θ'``.
5. **Conservative selection**: of the base (zero residual), the cloned and the
   fine-tuned weights, the one with the highest validation CTR is kept.

Item scores are ``(1 + a_{d+2}) z_i + a_{1..d+1}·E_out[i]`` with ``z`` the
base scores; a slate is the ``slate_size`` best unseen candidates.
"""

from __future__ import annotations

import copy
import logging
import warnings
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import Field, field_validator

from chainmall._optional import import_optional
from chainmall._persist import ParamsMixin, SavedFolder, load_folder, save_folder, torch_bytes
from chainmall._progress import logged_fit, progress_bar
from chainmall._storage import reading
from chainmall.config import EngineConfig
from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.recommend._base import FloatArray, IntArray
from chainmall.recommend.bandits import EASEPolicy
from chainmall.recommend.click_models import SimulationData
from chainmall.recommend.config import ALSConfig
from chainmall.recommend.implicit_models import ImplicitALS
from chainmall.recommend.interactions import Interactions
from chainmall.recommend.simulator import EpisodeState, SlatePolicy, SlateSimulator, top_available

__all__ = ["DDPGConfig", "DDPGRecommender"]

logger = logging.getLogger(__name__)

_BCBatch = tuple[
    IntArray, npt.NDArray[np.float32], npt.NDArray[np.bool_], npt.NDArray[np.float32], Any
]


class DDPGConfig(EngineConfig):
    """Networks, pre-training and DDPG settings (all counts are per ``fit``)."""

    embedding_dim: int = Field(32, ge=2, description="CF item factors when none are given (count)")
    hidden: int = Field(256, ge=8, description="hidden units of actor and critic (count)")
    history_len: int = Field(50, ge=1, description="latest positives in the state (items)")
    recent_len: int = Field(5, ge=1, description="latest positives in the 'recent' part (items)")
    bc_steps: int = Field(1500, ge=0, description="behaviour-cloning gradient steps")
    critic_pretrain_steps: int = Field(300, ge=0, description="critic-only TD steps")
    rl_steps: int = Field(600, ge=0, description="DDPG gradient steps (actor and critic)")
    batch_size: int = Field(128, ge=1, description="minibatch size (transitions or users)")
    round_users: int = Field(64, ge=1, description="train users per exploration episode batch")
    updates_per_step: int = Field(2, ge=1, description="gradient steps per simulator step")
    buffer_size: int = Field(50_000, ge=1, description="replay buffer capacity (transitions)")
    gamma: float = Field(0.9, ge=0, lt=1, description="discount per slate")
    tau: float = Field(0.01, gt=0, le=1, description="soft target update rate")
    actor_lr: float = Field(3e-4, gt=0, description="actor learning rate (RL phase)")
    bc_lr: float = Field(1e-3, gt=0, description="learning rate of behaviour cloning")
    critic_lr: float = Field(1e-3, gt=0, description="critic learning rate")
    weight_decay: float = Field(1e-5, ge=0, description="L2 penalty (AdamW) on all weights")
    noise_std: float = Field(
        0.05, ge=0, description="exploration noise std added to each action coordinate"
    )
    bc_weight: float = Field(1.0, ge=0, description="weight of the BC term in the actor loss")
    select_on_validation: bool = Field(
        True,
        description="keep whichever of base / cloned / fine-tuned weights has the best "
        "validation CTR (else the fine-tuned ones)",
    )
    seed: int = Field(0, description="seed of torch and numpy draws")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="'auto' uses CUDA when available, else the CPU"
    )
    base_reg: float = Field(700.0, gt=0, description="ridge penalty of the EASE base scorer")
    bc_folds: int = Field(
        2, ge=2, description="folds of train users for the cross-fitted base used in cloning"
    )
    skip_weight: float = Field(
        -0.1, le=0, description="EASE input weight of an item shown and not clicked"
    )
    show_progress: bool = Field(
        False, description="deprecated: use DDPGRecommender.fit(..., progress=True)"
    )

    @field_validator("show_progress")
    @classmethod
    def _deprecated_show_progress(cls, value: bool) -> bool:
        if value:
            warnings.warn(
                "DDPGConfig.show_progress is deprecated and will be removed in the next "
                "release; use DDPGRecommender.fit(..., progress=True)",
                FutureWarning,
                stacklevel=2,
            )
        return value


class DDPGRecommender(ParamsMixin, SlatePolicy):
    """DDPG actor-critic that recommends slates; a :class:`SlatePolicy` once fitted."""

    name = "ddpg"

    def __init__(self, config: DDPGConfig | None = None, **overrides: Any) -> None:
        cfg = config or DDPGConfig()
        self.config = cfg.replace(**overrides) if overrides else cfg

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: SimulationData,
        item_embeddings: FloatArray | None = None,
        *,
        progress: bool = False,
    ) -> Self:
        """Pre-train on the train users' logs, fine-tune with DDPG in their simulator.

        ``progress`` shows bars on stderr over the cloning steps and the DDPG updates;
        the ``chainmall.recommend`` logger reports each stage at INFO.
        """
        torch = import_optional("torch", extra="torch")
        cfg = self.config
        show = progress or cfg.show_progress
        sizes = {"users": len(data.users("train")), "items": data.n_items}
        with logged_fit(logger, "DDPGRecommender", **sizes):
            return self._fit_stages(torch, data, item_embeddings, show)

    def _fit_stages(
        self, torch: Any, data: SimulationData, item_embeddings: FloatArray | None, show: bool
    ) -> Self:
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        self.device_ = _device(torch, cfg.device)
        logged = data.logged()
        train = data.users("train")
        positives = _positives(logged, data.config.click_threshold)
        emb = self._warm_start(logged, positives, item_embeddings)
        bias = np.log1p(np.asarray(positives.sum(axis=0)).ravel())
        bias = (bias - bias.mean()) / max(float(bias.std()), 1e-12)
        self.n_items_ = data.n_items
        self.n_steps_ = data.config.n_steps
        self.base_ = EASEPolicy.from_matrix(
            positives,
            reg=cfg.base_reg,
            skip_weight=cfg.skip_weight,
            tie_break=np.asarray(positives.sum(axis=0)).ravel(),
        )
        self._build(torch, emb, bias, torch.Generator().manual_seed(cfg.seed))
        fold_weights = _cross_fitted_bases(data, positives, train, cfg)
        cloner = _Cloner(data, positives, train, cfg, self.n_steps_, fold_weights)
        select = cfg.select_on_validation and len(data.users("validation")) > 0
        stages: dict[str, tuple[float, Any]] = {}

        def checkpoint(stage: str) -> None:
            if select:
                weights = copy.deepcopy(self.actor_.state_dict())
                stages[stage] = (self._validation_ctr(data), weights)

        checkpoint("base")
        logger.info("DDPGRecommender: behaviour cloning, %d steps", cfg.bc_steps)
        self._behaviour_clone(torch, cloner, rng, show)
        checkpoint("pretrained")
        if cfg.rl_steps or cfg.critic_pretrain_steps:
            logger.info(
                "DDPGRecommender: %d critic and %d DDPG updates",
                cfg.critic_pretrain_steps,
                cfg.rl_steps,
            )
            self._ddpg(torch, data, train, cloner, rng, show)
        checkpoint("finetuned")
        report: dict[str, float | str] = {"selected": "finetuned"}
        if stages:
            best = max(stages, key=lambda k: stages[k][0])  # ties keep the earlier stage
            self.actor_.load_state_dict(stages[best][1])
            report = {f"validation_ctr_{k}": round(v[0], 5) for k, v in stages.items()}
            report["selected"] = best
        self.fit_report_ = report
        return self

    def _warm_start(
        self, logged: Interactions, positives: Any, item_embeddings: FloatArray | None
    ) -> FloatArray:
        if item_embeddings is None:
            als_cfg = ALSConfig(n_factors=self.config.embedding_dim, seed=self.config.seed)
            data = Interactions(positives, logged.user_ids, logged.item_ids, None, logged.config)
            item_embeddings = ImplicitALS(als_cfg).fit(data).item_embeddings()
        emb = np.asarray(item_embeddings, dtype=np.float64)
        if emb.shape[0] != logged.n_items:
            raise DataValidationError(
                f"item_embeddings has {emb.shape[0]} rows for {logged.n_items} items; pass "
                "one row per item of the simulation (e.g. ImplicitALS on data.logged())"
            )
        scaled: FloatArray = emb / max(float(emb.std()), 1e-12)
        return scaled

    def _build(self, torch: Any, emb: FloatArray, bias: FloatArray, generator: Any) -> None:
        """Actor and critic, initialised from ``generator`` (never torch's global one)."""
        from chainmall.recommend.ddpg_networks import Actor, Critic

        cfg = self.config
        item_init = torch.tensor(emb, dtype=torch.float32)
        actor = Actor(
            item_init,
            torch.tensor(bias, dtype=torch.float32),
            cfg.recent_len,
            cfg.hidden,
            generator,
        )
        critic = Critic(actor.encoder.out_dim, emb.shape[1] + 2, cfg.hidden, generator)
        self.actor_ = actor.to(self.device_)
        self.critic_ = critic.to(self.device_)

    # --------------------------------------------------------- behaviour cloning
    def _bc_loss(self, torch: Any, batch: _BCBatch) -> Any:
        pos, step, exclude, target, base = batch
        dev = self.device_
        state = self.actor_.encoder(
            torch.as_tensor(pos, device=dev), torch.as_tensor(step, device=dev)
        )
        logits = self.actor_.logits(self.actor_(state), torch.as_tensor(base, device=dev))
        logits = logits.masked_fill(torch.as_tensor(exclude, device=dev), -1e9)
        target_t = torch.as_tensor(target, device=dev)
        logp = torch.log_softmax(logits, dim=1)
        return -((target_t * logp).sum(1) / target_t.sum(1).clamp(min=1.0)).mean()

    def _behaviour_clone(
        self, torch: Any, cloner: _Cloner, rng: np.random.Generator, show: bool
    ) -> None:
        cfg = self.config
        opt = torch.optim.AdamW(
            self.actor_.parameters(), lr=cfg.bc_lr, weight_decay=cfg.weight_decay
        )
        every = max(cfg.bc_steps // 10, 1)
        with progress_bar(cfg.bc_steps, enabled=show, desc="behaviour cloning") as bar:
            for step in range(cfg.bc_steps):
                loss = self._bc_loss(torch, cloner.sample(rng, cfg.batch_size))
                opt.zero_grad()
                loss.backward()
                opt.step()
                bar.update(1)
                if (step + 1) % every == 0 and logger.isEnabledFor(logging.DEBUG):
                    logger.debug("behaviour cloning step %d: loss %.4f", step + 1, loss.item())

    # ------------------------------------------------------------------- DDPG
    def _ddpg(
        self,
        torch: Any,
        data: SimulationData,
        train: IntArray,
        cloner: _Cloner,
        rng: np.random.Generator,
        show: bool,
    ) -> None:
        cfg = self.config
        buffer = _ReplayBuffer(cfg.buffer_size, cfg.history_len, self.actor_.item_out.shape[1] + 1)
        target_actor = copy.deepcopy(self.actor_)
        target_critic = copy.deepcopy(self.critic_)
        actor_opt = torch.optim.AdamW(
            self.actor_.parameters(), lr=cfg.actor_lr, weight_decay=cfg.weight_decay
        )
        critic_opt = torch.optim.AdamW(
            self.critic_.parameters(), lr=cfg.critic_lr, weight_decay=cfg.weight_decay
        )
        sim = SlateSimulator(data, seed=cfg.seed)
        total = cfg.critic_pretrain_steps + cfg.rl_steps
        done_updates = 0
        bar = progress_bar(total, enabled=show, desc="DDPG")
        while done_updates < total:
            users = rng.choice(train, size=min(cfg.round_users, len(train)), replace=False)
            state = sim.reset(users)
            while not state.done.all() and done_updates < total:
                pos = self._encode(state)
                step = np.full(len(users), state.step / self.n_steps_, dtype=np.float32)
                action = self._actions(torch, pos, step, noise=cfg.noise_std, rng=rng)
                logits = self._logits(torch, action, self.base_.inputs(state))
                slates = top_available(logits, state.available(), data.config.slate_size)
                slates[state.done] = -1
                next_state, clicks = sim.step(state, slates)
                live = ~state.done
                next_pos = self._encode(next_state)
                next_step = np.full(len(users), next_state.step / self.n_steps_, dtype=np.float32)
                buffer.add(
                    pos[live],
                    step[live],
                    action[live],
                    clicks.sum(1)[live].astype(np.float32),
                    next_pos[live],
                    next_step[live],
                    next_state.done[live].astype(np.float32),
                )
                state = next_state
                if buffer.size < cfg.batch_size:
                    continue
                for _ in range(cfg.updates_per_step):
                    if done_updates >= total:
                        break
                    move_actor = done_updates >= cfg.critic_pretrain_steps
                    self._update(
                        torch,
                        buffer.sample(rng, cfg.batch_size),
                        target_actor,
                        target_critic,
                        actor_opt,
                        critic_opt,
                        cloner.sample(rng, cfg.batch_size) if move_actor else None,
                    )
                    done_updates += 1
                    bar.update(1)
            logger.debug("DDPG: %d/%d updates done", done_updates, total)
        bar.close()

    def _update(
        self,
        torch: Any,
        batch: dict[str, npt.NDArray[Any]],
        target_actor: Any,
        target_critic: Any,
        actor_opt: Any,
        critic_opt: Any,
        bc_batch: _BCBatch | None,
    ) -> None:
        cfg = self.config
        t = {k: torch.as_tensor(v, device=self.device_) for k, v in batch.items()}
        with torch.no_grad():
            next_state = target_actor.encoder(t["next_pos"], t["next_step"])
            next_q = target_critic(next_state, target_actor(next_state))
            y = t["reward"] + cfg.gamma * (1.0 - t["done"]) * next_q
            state = self.actor_.encoder(t["pos"], t["step"])
        critic_loss = ((self.critic_(state, t["action"]) - y) ** 2).mean()
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()
        if bc_batch is not None:
            state = self.actor_.encoder(t["pos"], t["step"])
            q = self.critic_(state.detach(), self.actor_(state))
            actor_loss = -q.mean() / q.abs().mean().detach().clamp(min=1e-6)
            actor_loss = actor_loss + cfg.bc_weight * self._bc_loss(torch, bc_batch)
            actor_opt.zero_grad()
            actor_loss.backward()
            actor_opt.step()
            _soft_update(torch, target_actor, self.actor_, cfg.tau)
        _soft_update(torch, target_critic, self.critic_, cfg.tau)

    # ------------------------------------------------------------- acting
    def _encode(self, state: EpisodeState) -> IntArray:
        """Padded (users, history_len) positives, most recent last; padding = n_items."""
        length = self.config.history_len
        out = np.full((len(state.positives), length), self.n_items_, dtype=np.int64)
        for row, items in enumerate(state.positives):
            last = items[-length:]
            if last:
                out[row, length - len(last) :] = last
        return out

    def _actions(
        self,
        torch: Any,
        pos: IntArray,
        step: npt.NDArray[np.float32],
        *,
        noise: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> npt.NDArray[np.float32]:
        with torch.no_grad():
            dev = self.device_
            state = self.actor_.encoder(
                torch.as_tensor(pos, device=dev), torch.as_tensor(step, device=dev)
            )
            action: npt.NDArray[np.float32] = self.actor_(state).cpu().numpy()
        if noise > 0 and rng is not None:
            action = action + noise * rng.standard_normal(action.shape).astype(np.float32)
        return action.astype(np.float32)

    def _base_scores(self, torch: Any, inputs: FloatArray) -> Any:
        """Base (EASE) scores of EASE inputs, z-scored over items per row, as a tensor."""
        z = _zscored_scores(inputs, self.base_.weights)
        return torch.as_tensor(z, device=self.device_)

    def _logits(
        self, torch: Any, action: npt.NDArray[np.float32], inputs: FloatArray
    ) -> FloatArray:
        with torch.no_grad():
            act = torch.as_tensor(action, device=self.device_)
            out = self.actor_.logits(act, self._base_scores(torch, inputs))
            return np.asarray(out.cpu().numpy(), dtype=np.float64)

    def scores(self, state: EpisodeState) -> FloatArray:
        """Item scores ``(1 + a_{d+2}) z + a_{1..d+1}·E_out`` per user (no exploration)."""
        if not hasattr(self, "actor_"):
            raise NotFittedError("DDPGRecommender is not fitted yet; call fit(data) first")
        torch = import_optional("torch", extra="torch")
        pos = self._encode(state)
        step = np.full(len(state.users), state.step / self.n_steps_, dtype=np.float32)
        action = self._actions(torch, pos, step)
        return self._logits(torch, action, self.base_.inputs(state)) + self.base_.tie_break

    def _validation_ctr(self, data: SimulationData) -> float:
        from chainmall.recommend.rl_eval import per_user_metrics
        from chainmall.recommend.simulator import run_episodes

        log = run_episodes(data, self, "validation", seed=self.config.seed)
        return float(np.nanmean(per_user_metrics(log)["ctr"].to_numpy()))

    # --------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Save to folder ``path`` (:mod:`chainmall._persist`: ``manifest.json`` +
        ``weights.pt``, a state_dict, no pickle); returns the folder."""
        if not hasattr(self, "actor_"):
            raise NotFittedError("DDPGRecommender is not fitted yet; call fit(data) first")
        torch = import_optional("torch", extra="torch")
        state = {
            "n_items": self.n_items_,
            "n_steps": self.n_steps_,
            "action_dim": int(self.actor_.item_out.shape[1]),
            "fit_report": self.fit_report_,
        }
        weights = {f"actor.{k}": v.cpu() for k, v in self.actor_.state_dict().items()}
        weights.update({f"critic.{k}": v.cpu() for k, v in self.critic_.state_dict().items()})
        weights["base.weights"] = torch.as_tensor(self.base_.weights)
        weights["base.tie_break"] = torch.as_tensor(self.base_.tie_break)
        return save_folder(
            path, self, config=self.config, state=state, files={"weights.pt": torch_bytes(weights)}
        )

    @classmethod
    def load(cls, path: str | Path) -> DDPGRecommender:
        """Load a model saved by :meth:`save` (hashes checked, ``weights_only=True``, CPU).

        Raises:
            ModelFileError: the folder is incomplete, changed, corrupt, hostile or of
                another class.
        """
        torch = import_optional("torch", extra="torch")
        saved = load_folder(path, cls)
        with reading(path):
            return cls._from_saved(torch, saved)

    @classmethod
    def _from_saved(cls, torch: Any, saved: SavedFolder) -> DDPGRecommender:
        meta = saved.state
        model = cls(DDPGConfig.from_dict(saved.config))
        weights = saved.torch_state("weights.pt")
        model.device_ = _device(torch, model.config.device)
        model.n_items_, model.n_steps_ = int(meta["n_items"]), int(meta["n_steps"])
        dim = int(meta["action_dim"]) - 1
        model._build(
            torch, np.zeros((model.n_items_, dim)), np.zeros(model.n_items_), torch.Generator()
        )
        model.actor_.load_state_dict(
            {k[6:]: v for k, v in weights.items() if k.startswith("actor.")}
        )
        model.critic_.load_state_dict(
            {k[7:]: v for k, v in weights.items() if k.startswith("critic.")}
        )
        model.base_ = EASEPolicy(
            weights["base.weights"].numpy(), skip_weight=model.config.skip_weight
        )
        model.base_.tie_break = weights["base.tie_break"].numpy()
        model.fit_report_ = dict(meta.get("fit_report", {}))
        return model


class _Cloner:
    """Samples behaviour-cloning batches from the train users' logged ratings."""

    def __init__(
        self,
        data: SimulationData,
        positives: Any,
        train: IntArray,
        cfg: DDPGConfig,
        n_steps: int,
        fold_weights: list[FloatArray],
    ) -> None:
        visible = data.visible
        self.fold_weights = fold_weights
        self.folds: list[int] = []
        self.n_items = data.n_items
        self.cfg = cfg
        self.n_steps = n_steps
        self.slate_size = data.config.slate_size
        self.visible_items: list[IntArray] = []
        self.visible_pos: list[IntArray] = []
        self.later_pos: list[IntArray] = []
        for rank, u in enumerate(train):
            seen = visible.indices[visible.indptr[u] : visible.indptr[u + 1]]
            ratings = visible.data[visible.indptr[u] : visible.indptr[u + 1]]
            liked = positives.indices[positives.indptr[u] : positives.indptr[u + 1]]
            later = np.setdiff1d(liked, seen)
            if len(later) == 0:
                continue
            self.visible_items.append(seen)
            self.visible_pos.append(seen[ratings >= data.config.click_threshold])
            self.later_pos.append(later)
            self.folds.append(rank % len(fold_weights))
        if not self.later_pos:
            raise DataValidationError(
                "no train user has a positive rating after the visible history; "
                "behaviour cloning needs some (lower n_visible or pass more data)"
            )

    def sample(self, rng: np.random.Generator, size: int) -> _BCBatch:
        """States, steps, items to exclude, targets, and z-scored cross-fitted base scores."""
        length = self.cfg.history_len
        rows = rng.integers(0, len(self.later_pos), size)
        pos = np.full((size, length), self.n_items, dtype=np.int64)
        step = rng.integers(0, self.n_steps, size)
        exclude = np.zeros((size, self.n_items), dtype=bool)
        target = np.zeros((size, self.n_items), dtype=np.float32)
        for b, r in enumerate(rows):
            later = rng.permutation(self.later_pos[r])
            n_clicked = int(rng.integers(0, min(len(later) - 1, step[b] * self.slate_size) + 1))
            clicked, rest = later[:n_clicked], later[n_clicked:]
            state = np.concatenate([self.visible_pos[r], clicked])[-length:]
            if len(state):
                pos[b, length - len(state) :] = state
            exclude[b, self.visible_items[r]] = True
            exclude[b, clicked] = True
            target[b, rest] = 1.0
        rows_hot, cols_hot = np.nonzero(pos < self.n_items)
        hot = sp.csr_matrix(
            (np.ones(len(rows_hot)), (rows_hot, pos[rows_hot, cols_hot])),
            shape=(size, self.n_items),
        )
        base = np.zeros((size, self.n_items), dtype=np.float32)
        folds = np.asarray(self.folds)[rows]
        for fold, weights in enumerate(self.fold_weights):
            mine = folds == fold
            if mine.any():
                base[mine] = _zscored_scores(hot[mine], weights)
        return pos, (step / self.n_steps).astype(np.float32), exclude, target, base


class _ReplayBuffer:
    """Ring buffer of transitions (positives as padded indices)."""

    def __init__(self, capacity: int, history_len: int, action_dim: int) -> None:
        self.capacity = capacity
        self.size = 0
        self.cursor = 0
        self.arrays: dict[str, npt.NDArray[Any]] = {
            "pos": np.zeros((capacity, history_len), dtype=np.int64),
            "step": np.zeros(capacity, dtype=np.float32),
            "action": np.zeros((capacity, action_dim), dtype=np.float32),
            "reward": np.zeros(capacity, dtype=np.float32),
            "next_pos": np.zeros((capacity, history_len), dtype=np.int64),
            "next_step": np.zeros(capacity, dtype=np.float32),
            "done": np.zeros(capacity, dtype=np.float32),
        }

    def add(self, *values: npt.NDArray[Any]) -> None:
        n = len(values[0])
        idx = (self.cursor + np.arange(n)) % self.capacity
        for name, value in zip(self.arrays, values, strict=True):
            self.arrays[name][idx] = value
        self.cursor = int((self.cursor + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, rng: np.random.Generator, size: int) -> dict[str, npt.NDArray[Any]]:
        idx = rng.integers(0, self.size, size)
        return {name: array[idx] for name, array in self.arrays.items()}


def _zscored_scores(inputs: Any, weights: FloatArray) -> npt.NDArray[np.float32]:
    """``inputs @ weights`` z-scored over items per row (sparse inputs stay cheap)."""
    raw = np.asarray(sp.csr_matrix(inputs) @ weights)
    std = np.maximum(raw.std(axis=1, keepdims=True), 1e-9)
    z: npt.NDArray[np.float32] = ((raw - raw.mean(axis=1, keepdims=True)) / std).astype(np.float32)
    return z


def _cross_fitted_bases(
    data: SimulationData, positives: Any, train: IntArray, cfg: DDPGConfig
) -> list[FloatArray]:
    """EASE weights for behaviour cloning, one per fold of the train users: fold ``f``'s
    model sees only the visible positives of fold ``f``'s users, so the residual is
    learnt against base scores that, as for validation/test users, never saw the
    items to predict."""
    visible_pos = _positives(
        Interactions(data.visible, data.user_ids, data.item_ids, None), data.config.click_threshold
    )
    out = []
    for fold in range(cfg.bc_folds):
        held = np.zeros(positives.shape[0], dtype=bool)
        held[train[fold :: cfg.bc_folds]] = True
        keep = sp.diags((~held).astype(np.float64))
        matrix = sp.csr_matrix(keep @ positives + sp.diags(held.astype(np.float64)) @ visible_pos)
        out.append(EASEPolicy.from_matrix(matrix, reg=cfg.base_reg).weights)
    return out


def _positives(logged: Interactions, threshold: float) -> Any:
    positives = logged.matrix.copy()
    positives.data = (positives.data >= threshold).astype(np.float64)
    positives.eliminate_zeros()
    return positives


def _soft_update(torch: Any, target: Any, source: Any, tau: float) -> None:
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters(), strict=True):
            t.mul_(1.0 - tau).add_(s, alpha=tau)


def _device(torch: Any, choice: str) -> Any:
    if choice == "cuda" and not torch.cuda.is_available():
        raise DataValidationError("device='cuda' was asked for but CUDA is not available")
    use_cuda = choice == "cuda" or (choice == "auto" and torch.cuda.is_available())
    return torch.device("cuda" if use_cuda else "cpu")
