"""What a generate request may ask for, checked before anything is allocated or deleted.

A scale of ``inf`` or ``1e9`` used to fail deep inside numpy (or try to allocate terabytes)
after ``_truth/`` had already been wiped. Here the request is measured against the machine first:
rows, Parquet bytes and peak memory grow linearly with the scale, at the rates measured on the
generator (scale 1: about 10 M rows, 200 MB of Parquet, a peak of 1.4 GB; scale 3: 2.0 GB).
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

ROWS_PER_SCALE = 10_000_000
PARQUET_BYTES_PER_SCALE = 200 * 10**6
MEMORY_BASE_BYTES = 1_100 * 10**6
MEMORY_BYTES_PER_SCALE = 300 * 10**6
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Estimate:
    rows: float
    disk_bytes: float
    memory_bytes: float

    def __str__(self) -> str:
        return (
            f"about {self.rows:,.0f} rows, {_size(self.disk_bytes)} of Parquet and "
            f"{_size(self.memory_bytes)} of memory"
        )


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} PB"  # pragma: no cover - the loop always returns


def estimate(scale: float) -> Estimate:
    return Estimate(
        ROWS_PER_SCALE * scale,
        PARQUET_BYTES_PER_SCALE * scale,
        MEMORY_BASE_BYTES + MEMORY_BYTES_PER_SCALE * scale,
    )


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 2**62


def check_request(data_dir: Path, scale: float, seed: int) -> Estimate:
    """Raise ``ValueError`` (one line, with the fix) for a request that cannot succeed."""
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"--scale must be a positive finite number, not {scale!r} (e.g. 0.1)")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"--seed must be a whole number from 0 to {MAX_SEED}, not {seed}")
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise ValueError(f"--data-dir {data_dir} is a file, not a folder; name a folder")
    anchor = _existing_ancestor(data_dir)
    if not anchor.is_dir():
        raise ValueError(f"--data-dir {data_dir}: {anchor} is a file, not a folder")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise ValueError(f"--data-dir {data_dir}: {anchor} is not writable")
    need = estimate(scale)
    free = shutil.disk_usage(anchor).free
    memory = _physical_memory()
    largest = min(
        free / PARQUET_BYTES_PER_SCALE,
        max(memory - MEMORY_BASE_BYTES, 0) / MEMORY_BYTES_PER_SCALE,
    )
    if need.disk_bytes > free or need.memory_bytes > memory:
        raise ValueError(
            f"--scale {scale:g} needs {need}; this machine has {_size(free)} free under "
            f"{anchor} and {_size(memory)} of memory. Choose --scale {largest:.3g} or less"
        )
    return need
