"""Where data set files live, and the one place that downloads them.

The data directory is, in order: the ``data_home`` argument, the
``CHAINMALL_DATA`` environment variable, ``~/.chainmall/data``. Each data set
sits in its own sub-folder (``ml-100k``, ``cdnow``, ``dominicks_oj``,
``walmart_store_sales``). Nothing is downloaded unless ``download=True``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from chainmall._storage import atomic_writer
from chainmall.exceptions import DataFileNotFoundError, DataValidationError

__all__ = ["Remote", "data_home", "locate"]


@dataclass(frozen=True)
class Remote:
    """An official download: ``url`` of a file or zip, and the member to keep."""

    url: str
    member: str | None = None  # path inside the zip; None when url is the file itself


def data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The directory that holds the data sets (see module docstring)."""
    if data_home is not None:
        if not isinstance(data_home, str | os.PathLike):
            raise DataValidationError(
                f"data_home must be a folder path (str or Path), got {type(data_home).__name__}"
            )
        return Path(data_home).expanduser()
    env = os.environ.get("CHAINMALL_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".chainmall" / "data"


def _download(remote: Remote, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fetched = Path(tmp) / "download"
        with urllib.request.urlopen(remote.url, timeout=60) as response, fetched.open("wb") as out:
            shutil.copyfileobj(response, out)
        if remote.member is None:
            fetched.replace(target)
            return
        with (
            zipfile.ZipFile(fetched) as archive,
            archive.open(remote.member) as src,
            atomic_writer(target) as out,
        ):
            shutil.copyfileobj(src, out)


def locate(
    subdir: str,
    filename: str,
    *,
    home: str | os.PathLike[str] | None,
    download: bool,
    remote: Remote | None,
    how_to_get: str = "",
) -> Path:
    """Path of ``subdir/filename`` under the data home, downloading it if asked."""
    path = data_home(home) / subdir / filename
    if path.is_file():
        return path
    if download and remote is not None:
        _download(remote, path)
        return path
    if remote is not None:
        fix = "pass download=True to fetch it from the official source"
    else:
        fix = how_to_get or "place the file there"
    raise DataFileNotFoundError(
        f"data file not found: {path}. Set data_home=... or the CHAINMALL_DATA environment "
        f"variable to the folder that contains {subdir}/, or {fix}."
    )
