"""A DuckDB file held open by a second process, as a concurrent build or check holds it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

_SCRIPT = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
if sys.argv[2]:
    con.execute(sys.argv[2])
print("ready", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def held_by_another_process(path: Path, setup: str = "") -> Iterator[None]:
    """``path`` open for writing in another process (DuckDB's file lock) until the block ends;
    that process first runs the SQL ``setup``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(path), setup],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        yield
    finally:
        holder.communicate("")
