"""Progress bars and fit logging shared by every engine's long-running fits.

A fit that can take more than a few seconds takes ``progress: bool = False``;
:func:`progress_bar` gives it a tqdm bar on stderr when tqdm is importable, plain
``desc: done/total`` lines on stderr (about every 10 %) when it is not, and a
no-op bar when ``progress`` is false. :func:`logged_fit` writes the INFO lines
that open and close a fit (what, sizes, seconds) to the engine's logger; the
library adds no logging handler, so nothing shows until the application
configures logging (``logging.basicConfig(level=logging.INFO)``, ``chainmall -v``).
:func:`resolve_progress` reads a call's ``progress`` keyword together with the
deprecated ``show_progress`` it replaces.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from logging import Logger
from typing import Any

from chainmall.exceptions import ConfigError

__all__ = [
    "ProgressBar",
    "fit_done",
    "fit_started",
    "logged_fit",
    "progress_bar",
    "resolve_progress",
]


class ProgressBar:
    """The bar interface the fits use: ``update(n)``, ``set_postfix(**values)``, ``close()``."""

    def update(self, n: int = 1) -> None:
        """Count ``n`` more steps done."""

    def set_postfix(self, **values: Any) -> None:
        """Show ``values`` (e.g. the current loss) next to the bar."""

    def close(self) -> None:
        """End the bar."""

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _TextBar(ProgressBar):
    """``desc: done/total`` lines on stderr about every 10 %, for when tqdm is absent."""

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.done, self.shown = max(total, 1), desc, 0, 0

    def update(self, n: int = 1) -> None:
        self.done += n
        tenth = min(10 * self.done // self.total, 10)
        if tenth > self.shown:
            self.shown = tenth
            sys.stderr.write(f"{self.desc}: {self.done}/{self.total}\n")


class _TqdmBar(ProgressBar):
    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def set_postfix(self, **values: Any) -> None:
        self.bar.set_postfix(values, refresh=False)

    def close(self) -> None:
        self.bar.close()


def progress_bar(total: int, *, enabled: bool, desc: str) -> ProgressBar:
    """A bar over ``total`` steps on stderr (tqdm if installed), or a no-op one."""
    if not enabled:
        return ProgressBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextBar(total, desc)
    return _TqdmBar(tqdm(total=total, desc=desc, file=sys.stderr))


def resolve_progress(progress: bool, show_progress: bool | None, call: str) -> bool:
    """Whether the public function ``call`` (e.g. ``"make_shop"``) shows progress.

    Call it first thing in that function. ``show_progress`` is the deprecated name
    (``None`` when not passed): it still works for one release, with a
    :class:`FutureWarning` that names ``progress=`` and points at the function's caller.

    Raises:
        ConfigError: ``show_progress`` given together with ``progress=True``.
    """
    if show_progress is None:
        return progress
    if progress:
        raise ConfigError(
            f"{call}() got both progress=True and the deprecated "
            f"show_progress={show_progress}; pass progress= only"
        )
    warnings.warn(
        f"{call}(show_progress={show_progress}) is deprecated and will be removed in the "
        f"next release; use {call}(..., progress={show_progress})",
        FutureWarning,
        stacklevel=3,
    )
    return bool(show_progress)


def fit_started(logger: Logger, what: str, **sizes: int) -> float:
    """Log ``what: fitting on <sizes>`` at INFO; returns the start time for :func:`fit_done`."""
    shown = ", ".join(f"{value:,} {name}" for name, value in sizes.items())
    logger.info("%s: fitting on %s", what, shown or "the data")
    return time.perf_counter()


def fit_done(logger: Logger, what: str, start: float) -> None:
    """Log ``what: fitted in N s`` at INFO (``start`` from :func:`fit_started`)."""
    logger.info("%s: fitted in %.2f s", what, time.perf_counter() - start)


@contextmanager
def logged_fit(logger: Logger, what: str, **sizes: int) -> Iterator[None]:
    """:func:`fit_started` before the block and :func:`fit_done` after it."""
    start = fit_started(logger, what, **sizes)
    yield
    fit_done(logger, what, start)
