"""Customer matching on our own generator at each identity noise level (a self-check).

``python -m engagement_lake.bench.mdm_noise --scale 0.1`` (``make bench-mdm-noise``) generates
one lake per level of :data:`engagement_lake.config.NOISE_LEVELS`, builds ``+customer_xref`` and
``+int_customer_full_names`` through the normal dbt build, and prints what ``engagement-lake mdm
evaluate`` reports: pairwise F1, the measured share of each noise kind, twins and households
kept apart, and "Last, First" names parsed. These figures are about data we made; the evidence
that the matcher holds on data it was not tuned to is the public benchmark (``make bench-mdm``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from engagement_lake.config import DEFAULT_SEED, NOISE_LEVELS, RunConfig
from engagement_lake.mdm.evaluate import LakeEvaluation, evaluate_lake

WORK_DIR = Path(".cache/bench-mdm-noise")
SELECT = ("+customer_xref", "+int_customer_full_names")


@dataclass(frozen=True)
class LevelResult:
    """One noise level: the evaluation and how long generating and matching took."""

    level: str
    evaluation: LakeEvaluation
    generate_seconds: float
    build_seconds: float
    xref_seconds: float


def run_level(level: str, scale: float, seed: int, work: Path) -> LevelResult:
    """Generate, build and evaluate one lake at ``level`` under ``work/level``."""
    from engagement_lake.dbt_runner import build
    from engagement_lake.generate import generate

    data_dir = work / level
    generated = generate(data_dir, scale=scale, seed=seed, identity_noise=level, progress=False)
    cfg = RunConfig(data_dir, data_dir / "warehouse.duckdb", target_dir=data_dir / "target")
    run = build(cfg, list(SELECT), progress=False)
    xref = [
        n.seconds
        for n in run.nodes
        if n.name.endswith(("int_customer_clusters", "customer_id_ledger", "customer_xref"))
    ]
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        evaluation = evaluate_lake(data_dir / "_truth", con)
    return LevelResult(level, evaluation, generated.seconds, run.seconds, sum(xref))


def summary(results: list[LevelResult]) -> pl.DataFrame:
    """One row per level: the figures ``docs/benchmarks.md`` quotes."""
    rows = []
    for r in results:
        e = r.evaluation
        related = {row["relation"]: row for row in e.related.iter_rows(named=True)}
        names = {row["style"]: row for row in e.names.iter_rows(named=True)}
        last_first = names.get("last_first", {})
        rows.append(
            {
                "level": r.level,
                "records": e.overall.records,
                "precision": e.overall.precision,
                "recall": e.overall.recall,
                "f1": e.overall.f1,
                "clusters_found": e.overall.found_clusters,
                "clusters_true": e.overall.true_clusters,
                "twin_pairs": related.get("twins", {}).get("pairs", 0),
                "twins_merged": related.get("twins", {}).get("merged", 0),
                "household_pairs": related.get("household", {}).get("pairs", 0),
                "households_merged": related.get("household", {}).get("merged", 0),
                "last_first_records": last_first.get("records", 0),
                "last_first_parsed": last_first.get("share_correct"),
                "customer_xref_s": round(r.xref_seconds, 1),
            }
        )
    return pl.DataFrame(rows)


def noise_shares(results: list[LevelResult]) -> pl.DataFrame:
    """Measured share of records carrying each noise kind, one column per level."""
    frames = [
        r.evaluation.by_noise.select("noise", pl.col("share").alias(r.level)) for r in results
    ]
    out = frames[0]
    for frame in frames[1:]:
        out = out.join(frame, on="noise", how="full", coalesce=True)
    return out.fill_null(0.0).sort("noise")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--levels", nargs="*", default=list(NOISE_LEVELS), choices=NOISE_LEVELS)
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = [run_level(level, args.scale, args.seed, args.work_dir) for level in args.levels]
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, float_precision=4):
        for r in results:
            print(f"\n=== identity noise {r.level}, scale {args.scale}, seed {args.seed} ===")
            print(r.evaluation)
        print("\n=== summary ===")
        print(summary(results))
        print(noise_shares(results))
    print(f"{time.perf_counter() - started:.0f} s in all")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "scale": args.scale,
                    "seed": args.seed,
                    "summary": summary(results).to_dicts(),
                    "noise_shares": noise_shares(results).to_dicts(),
                    "by_source_pair": {
                        r.level: r.evaluation.by_source_pair.to_dicts() for r in results
                    },
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
