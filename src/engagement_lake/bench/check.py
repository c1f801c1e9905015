"""Time ``check`` against the build it checks: ``python -m engagement_lake.bench.check``.

The promise is that checking a lake never costs more than building it, at any scale. This
generates a lake in a fresh temporary folder (never the shared ``data/`` or ``target/``: other
runs may be using them), builds it, runs every layer's checks, and prints both durations and the
peak memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def bench(scale: float, seed: int, root: Path, chunk_rows: int) -> dict[str, float]:
    """Generate, build and check one lake under ``root``; returns the seconds of each step."""
    from engagement_lake.config import RunConfig
    from engagement_lake.dbt_runner import build
    from engagement_lake.generate import generate
    from engagement_lake.quality import run_checks

    data = root / "data"
    cfg = RunConfig(
        data, root / "warehouse.duckdb", scale=scale, seed=seed, target_dir=root / "target"
    )
    timings: dict[str, float] = {}
    t = time.perf_counter()
    generate(data, scale=scale, seed=seed, progress=False)
    timings["generate"] = time.perf_counter() - t
    t = time.perf_counter()
    build(cfg, progress=False)
    timings["build"] = time.perf_counter() - t
    report = run_checks(cfg, "all", report_dir=root / "reports", chunk_rows=chunk_rows)
    timings["check"] = report.seconds
    for layer, seconds in report.layer_seconds.items():
        timings[f"check {layer}"] = seconds
    print(report.summary())
    return timings


def main(argv: list[str] | None = None) -> None:
    from engagement_lake.quality.gx_engine import DEFAULT_CHUNK_ROWS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    parser.add_argument("--keep", type=Path, help="folder to keep the lake in (default: temp)")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        timings = bench(args.scale, args.seed, args.keep, args.chunk_rows)
    else:
        with tempfile.TemporaryDirectory(prefix="engagement-lake-bench-") as tmp:
            timings = bench(args.scale, args.seed, Path(tmp), args.chunk_rows)
    for step, seconds in timings.items():
        print(f"{step:<14} {seconds:8.1f}s")
    ratio = timings["check"] / timings["build"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"check/build    {ratio:8.2f}   peak memory {peak:.0f} MB (whole process)")


if __name__ == "__main__":
    main()
