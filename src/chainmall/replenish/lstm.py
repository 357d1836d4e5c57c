"""Global LSTM forecaster in torch, trained across series with per-series scaling.

Each series is divided by its scale ``s_i`` (mean |y| of its last season). A
sample is an origin ``t``: the LSTM reads the last ``input_size`` scaled values
and a linear head maps its final state — together with last season's values
at the ``h`` target periods, ``y_{t+k-m}/s_i`` — to ``h`` outputs that are
added to those seasonal values (``seasonal=True``) or taken as is. The loss is
absolute error weighted by ``s_i / d_i`` (``d_i`` the in-sample seasonal-naive
MAE), i.e. MASE. Training is deterministic on CPU: the weights start from a
``torch.Generator`` seeded with ``seed`` (torch's global generator is never
touched) and batches are shuffled by a seeded numpy generator. Intervals use the RMS in-sample error per
horizon (optimistic; use backtest errors for safety stock).
torch is imported lazily (``pip install "chainmall[torch]"``).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from chainmall._optional import import_optional
from chainmall._persist import SavedFolder, torch_bytes
from chainmall._progress import progress_bar
from chainmall._storage import atomic_writer
from chainmall._torch_init import linear, lstm
from chainmall.exceptions import ConfigError, NotFittedError
from chainmall.replenish._base import Forecaster
from chainmall.replenish._features import series_scales
from chainmall.replenish._panel import Panel
from chainmall.replenish.gbm import mase_scales
from chainmall.replenish.model_configs import LSTMConfig

__all__ = ["LSTMForecaster"]

logger = logging.getLogger(__name__)


def _windows(
    y: np.ndarray, origins: np.ndarray, input_size: int, h: int, season: int
) -> tuple[np.ndarray, np.ndarray]:
    """Input windows ``(n, input_size)`` and last-season values ``(n, h)`` (0 when absent)."""
    back = origins[:, None] - np.arange(input_size - 1, -1, -1)[None, :]
    seas_idx = origins[:, None] + np.arange(1, h + 1)[None, :] - season
    seas = (
        np.where(seas_idx >= 0, y[np.clip(seas_idx, 0, None)], 0.0)
        if season
        else np.zeros(seas_idx.shape)
    )
    return y[back], seas


class LSTMForecaster(Forecaster):
    """Small global LSTM with a direct multi-horizon head.

    Hyperparameters: :class:`~chainmall.replenish.model_configs.LSTMConfig`
    (network size, horizon, Adam training settings, seed).
    """

    default_alias = "LSTM"
    config_class = LSTMConfig
    config: LSTMConfig
    _learned_arrays = ("scales_", "resid_rms_")

    @property
    def _season(self) -> int:
        return self.cfg.season_length if self.config.seasonal else 0

    def _min_length(self) -> int:
        return max(self.config.input_size, self._season) + self.config.horizon

    def _network(self, generator: Any) -> Any:
        """The network, its weights drawn from ``generator`` (a ``torch.Generator``)."""
        torch = import_optional("torch", extra="torch")
        h, hidden = self.config.horizon, self.config.hidden_size

        class Net(torch.nn.Module):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.lstm = lstm(1, hidden, generator)
                self.head = linear(hidden + h, h, generator)

            def forward(self, x: Any, seas: Any) -> Any:
                _, (state, _) = self.lstm(x.unsqueeze(-1))
                return self.head(torch.cat([state[-1], seas], dim=1))

        return Net()

    def _fit_panel(self, panel: Panel) -> None:
        torch = import_optional("torch", extra="torch")
        h, m = self.config.horizon, self._season
        self.scales_ = series_scales(panel, self.cfg.season_length)
        weights = self.scales_ / mase_scales(panel, self.cfg.season_length)
        xs, ss, ys, ws = [], [], [], []
        for i, raw in enumerate(panel.values):
            y = raw / self.scales_[i]
            origins = np.arange(max(self.config.input_size, m) - 1, len(y) - h)
            x, seas = _windows(y, origins, self.config.input_size, h, m)
            xs.append(x)
            ss.append(seas)
            ys.append(y[origins[:, None] + np.arange(1, h + 1)[None, :]])
            ws.append(np.full(len(origins), weights[i]))
        rng = np.random.default_rng(self.config.seed)
        net = self._network(torch.Generator().manual_seed(self.config.seed))
        data = [torch.as_tensor(np.concatenate(a), dtype=torch.float32) for a in (xs, ss, ys, ws)]
        x_all, s_all, y_all, w_all = data
        opt = torch.optim.Adam(net.parameters(), lr=self.config.learning_rate)
        bar = progress_bar(self.config.epochs, enabled=self._progress, desc=self.name)
        for epoch in range(self.config.epochs):
            order = torch.as_tensor(rng.permutation(len(x_all)))
            for start in range(0, len(order), self.config.batch_size):
                idx = order[start : start + self.config.batch_size]
                pred = net(x_all[idx], s_all[idx]) + (s_all[idx] if m else 0.0)
                loss = ((pred - y_all[idx]).abs().mean(dim=1) * w_all[idx]).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            bar.update()
            if logger.isEnabledFor(logging.DEBUG):
                done = (self.name, epoch + 1, self.config.epochs, loss.item())
                logger.debug("%s epoch %d/%d: loss %.4f", *done)
        bar.close()
        net.eval()
        with torch.no_grad():
            resid = (net(x_all, s_all) + (s_all if m else 0.0) - y_all).numpy()
        self.net_ = net
        self.resid_rms_ = np.sqrt(np.mean(resid**2, axis=0))

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        if h > self.config.horizon:
            raise ConfigError(
                f"{self.name} was trained for horizons up to {self.config.horizon}; refit with horizon={h}"
            )
        torch = import_optional("torch", extra="torch")
        scales = (
            self.scales_ if panel is self.panel_ else series_scales(panel, self.cfg.season_length)
        )
        xs, ss = [], []
        for i, raw in enumerate(panel.values):
            x, seas = _windows(
                raw / scales[i],
                np.array([len(raw) - 1]),
                self.config.input_size,
                self.config.horizon,
                self._season,
            )
            xs.append(x)
            ss.append(seas)
        x_t = torch.as_tensor(np.concatenate(xs), dtype=torch.float32)
        s_t = torch.as_tensor(np.concatenate(ss), dtype=torch.float32)
        with torch.no_grad():
            out = (self.net_(x_t, s_t) + (s_t if self._season else 0.0)).numpy()
        mean = out[:, :h].astype("float64") * scales[:, None]
        return mean, scales[:, None] * self.resid_rms_[None, :h]

    def _native_files(self) -> dict[str, bytes]:
        return {"weights.pt": torch_bytes(self.net_.state_dict())}

    def _restore_state(
        self, learned: dict[str, Any], members: list[Forecaster], saved: SavedFolder
    ) -> None:
        super()._restore_state(learned, members, saved)
        torch = import_optional("torch", extra="torch")
        net = self._network(torch.Generator())
        net.load_state_dict(saved.torch_state("weights.pt"))
        net.eval()
        self.net_ = net

    def save_weights(self, path: str | Path) -> None:
        """Save the network's ``state_dict`` atomically (load with ``torch.load(weights_only=True)``).

        Deprecated: :meth:`save` writes the whole model (the weights as ``weights.pt``).
        """
        warnings.warn(
            "LSTMForecaster.save_weights is deprecated and will be removed in the next "
            "release; use model.save(folder), which writes weights.pt with the rest",
            FutureWarning,
            stacklevel=2,
        )
        if not hasattr(self, "net_"):
            raise NotFittedError("LSTMForecaster is not fitted; call fit(df) first")
        torch = import_optional("torch", extra="torch")
        with atomic_writer(path) as out:
            torch.save(self.net_.state_dict(), out)
