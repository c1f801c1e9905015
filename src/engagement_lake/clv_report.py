"""Reading and writing for the CLV validation: the warehouse's order log, the CDNOW sample, the
report files and the calibration/holdout plot. The statistics are
:mod:`engagement_lake.analytics.clv_evaluate` (pure functions over arrays).

The CDNOW sample ships inside the ``lifetimes`` wheel, which is downloaded with pip into the
benchmark cache (git-ignored, shared with the Febrl benchmark), read as a zip, never imported and
never committed.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engagement_lake.analytics.churn import fit_mbg_nbd
from engagement_lake.analytics.clv import fit_bg_nbd, fit_gamma_gamma, rfm_summary
from engagement_lake.analytics.clv_evaluate import Evaluation
from engagement_lake.config import PROJECT_ROOT

#: The wheel that ships the CDNOW sample, and the members that may be read from it.
CDNOW_WHEEL_REQUIREMENT = "lifetimes==0.11.3"
CACHE_DIR = PROJECT_ROOT / ".cache" / "benchmarks"
"""Shared with the Febrl benchmark (git-ignored)."""
CDNOW_FOLDER = "lifetimes/datasets/"
CDNOW_TRANSACTIONS = CDNOW_FOLDER + "CDNOW_sample.txt"
CDNOW_CALIBRATION_END = "1997-09-30"
"""FHL (2005): 39 weeks of calibration from 1 January 1997, then 39 weeks of holdout."""
CDNOW_HOLDOUT_END = "1998-06-30"

#: Published CDNOW-sample fits: BG/NBD from FHL (2005), table in section 5; MBG/NBD from
#: Platzer's BTYDplus as asserted by the lifetimes test suite; Gamma-Gamma from Fader and Hardie
#: (2013), "The Gamma-Gamma Model of Monetary Value".
CDNOW_PUBLISHED: dict[str, dict[str, float]] = {
    "bg_nbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "mbg_nbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "v": 15.44},
}


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def write_report(
    evaluation: Evaluation, folder: Path, extra: dict[str, Any] | None = None
) -> list[Path]:
    """Write ``evaluation.md``, ``evaluation.json``, ``frequency_buckets.csv`` and the
    calibration/holdout plot ``calibration_holdout.png`` into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / "evaluation.md"
    md.write_text(evaluation.to_markdown())
    data = evaluation.to_json() | (extra or {})
    js = folder / "evaluation.json"
    js.write_text(json.dumps(data, indent=2, default=str) + "\n")
    table = folder / "frequency_buckets.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["calibration_frequency", "customers", "actual", "bg_nbd", "mbg_nbd"])
    for b in evaluation.buckets:
        means = (f"{v:.6f}" for v in (b.actual, b.bg_nbd, b.mbg_nbd))
        writer.writerow([b.bucket, b.customers, *means])
    table.write_text(buffer.getvalue())
    png = folder / "calibration_holdout.png"
    plot_calibration_holdout(evaluation, png)
    return [md, js, table, png]


def plot_calibration_holdout(evaluation: Evaluation, path: Path) -> None:
    """The calibration/holdout plot: mean holdout repeat purchases by calibration frequency,
    actual beside each model's prediction, rendered to PNG offline (altair + vl-convert)."""
    import altair as alt

    rows = [
        {"calibration frequency": b.bucket, "series": series, "mean holdout purchases": value}
        for b in evaluation.buckets
        for series, value in (
            ("actual", b.actual),
            ("BG/NBD", b.bg_nbd),
            ("MBG/NBD", b.mbg_nbd),
        )
    ]
    order = [b.bucket for b in evaluation.buckets]
    series = ["actual", "BG/NBD", "MBG/NBD"]
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("calibration frequency:O", sort=order, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("mean holdout purchases:Q"),
            color=alt.Color(
                "series:N", scale=alt.Scale(domain=series, range=["#222222", "#1f77b4", "#ff7f0e"])
            ),
            strokeDash=alt.StrokeDash(
                "series:N", scale=alt.Scale(domain=series, range=[[1, 0], [6, 3], [2, 2]])
            ),
        )
        .properties(
            width=420,
            height=300,
            title=f"Calibration to {evaluation.calibration_end}, holdout to "
            f"{evaluation.holdout_end}",
        )
    )
    chart.save(str(path), format="png", scale_factor=2)


# --------------------------------------------------------------------------------------------
# CDNOW sample (from the lifetimes wheel)
# --------------------------------------------------------------------------------------------


def find_cdnow_wheel(cache_dir: Path = CACHE_DIR, download: bool = True) -> Path:
    """The cached lifetimes wheel; downloaded with pip (no dependencies, never installed)."""
    pattern = "[Ll]ifetimes-*.whl"
    found = sorted(cache_dir.glob(pattern))
    if not found and download:
        cache_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", CDNOW_WHEEL_REQUIREMENT, "--no-deps",
             "--quiet", "-d", str(cache_dir)],
            check=True,
        )  # fmt: skip
        found = sorted(cache_dir.glob(pattern))
    if not found:
        raise FileNotFoundError(f"no lifetimes wheel in {cache_dir}")
    return found[-1]


def load_cdnow(wheel: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer ids, purchase dates, dollar amounts) of the CDNOW sample: 2,357 customers of the
    first quarter 1997 cohort, purchases to 30 June 1998. Columns of the file: master id, sample
    id, yyyymmdd, CDs bought, dollars."""
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(CDNOW_TRANSACTIONS).decode("ascii")
    rows = np.array(text.split(), dtype=object).reshape(-1, 5)
    ids = rows[:, 1].astype(np.int64)
    ymd = rows[:, 2].astype(str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in ymd], dtype="datetime64[D]")
    return ids, dates, rows[:, 4].astype(np.float64)


# --------------------------------------------------------------------------------------------
# The warehouse's transaction log
# --------------------------------------------------------------------------------------------

WAREHOUSE_LOG_SQL = """
select value.customer_id, orders.order_date
from gold.fct_orders as orders
inner join gold.fct_customer_value as value using (customer_key)
where not orders.is_cancelled and orders.order_date <= ?
"""
"""The log the CLV models are fitted on: non-cancelled shop orders of golden customers, up to
the fit date of the build (the same rows ``customer_value_predictions`` reads)."""


def load_warehouse_log(warehouse: Path) -> tuple[np.ndarray, np.ndarray, np.datetime64]:
    """(golden customer ids, order dates, as-of date) from a built warehouse, opened read-only.
    The as-of date is the build's fit date, so the holdout ends where the gold table's fit does.

    Raises:
        LookupError: if the warehouse has no CLV fit (no shop orders, or not built).
    """
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        as_of = con.execute("select max(fit_date) from gold.fct_customer_value").fetchone()
        if not as_of or as_of[0] is None:
            raise LookupError(f"{warehouse}: gold.fct_customer_value has no fit (no shop orders?)")
        rows = con.execute(WAREHOUSE_LOG_SQL, [as_of[0]]).fetchnumpy()
    ids = np.asarray(rows["customer_id"]).astype(str)
    dates = np.asarray(rows["order_date"]).astype("datetime64[D]")
    return ids, dates, np.datetime64(as_of[0], "D")


# --------------------------------------------------------------------------------------------
# CDNOW reproduction
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReproducedParameter:
    """One CDNOW parameter: ours beside the published value."""

    model: str
    parameter: str
    published: float
    reproduced: float

    @property
    def relative_difference(self) -> float:
        return (self.reproduced - self.published) / self.published


def cdnow_reproduction(wheel: Path) -> list[ReproducedParameter]:
    """Fit BG/NBD, MBG/NBD and Gamma-Gamma on the CDNOW sample's 39-week calibration period
    (weeks, from the raw transaction file through ``rfm_summary``) and set each parameter beside
    :data:`CDNOW_PUBLISHED`."""
    ids, dates, amounts = load_cdnow(wheel)
    rfm = rfm_summary(ids, dates, amounts, CDNOW_CALIBRATION_END, time_unit="W")
    x, tx, T, m = rfm.frequency, rfm.recency, rfm.T, rfm.monetary_value
    fits: dict[str, Any] = {
        "bg_nbd": fit_bg_nbd(x, tx, T),
        "mbg_nbd": fit_mbg_nbd(x, tx, T),
        "gamma_gamma": fit_gamma_gamma(x, m),
    }
    return [
        ReproducedParameter(model, name, value, float(getattr(fits[model], name)))
        for model, published in CDNOW_PUBLISHED.items()
        for name, value in published.items()
    ]


def format_reproduction(rows: list[ReproducedParameter]) -> str:
    """Markdown table of the CDNOW reproduction."""
    lines = [
        "| model | parameter | published | reproduced | difference |",
        "| --- | --- | ---: | ---: | ---: |",
        *(
            f"| {r.model} | {r.parameter} | {r.published:g} | {r.reproduced:.4f} | "
            f"{r.relative_difference:+.2%} |"
            for r in rows
        ),
    ]
    return "\n".join(lines) + "\n"
