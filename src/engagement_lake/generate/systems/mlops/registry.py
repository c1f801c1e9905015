"""What the data-science team runs: experiments (with true effects per variant) and the model
registry."""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.context import Ctx

EXPERIMENT_DEFS = (
    # name, metric, surface, variants, intended split, base rate, relative effects, status, srm
    (
        "FitMap size filter on PLP",
        "conversion",
        "web",
        ("control", "treatment"),
        (50, 50),
        0.060,
        (0.0, 0.45),
        "completed",
        False,
    ),
    (
        "Free shipping threshold $75",
        "conversion",
        "web",
        ("control", "treatment"),
        (50, 50),
        0.055,
        (0.0, 0.0),
        "completed",
        False,
    ),
    (
        "Tall-fit hero banner",
        "click_through",
        "app",
        ("control", "treatment"),
        (50, 50),
        0.110,
        (0.0, 0.35),
        "completed",
        False,
    ),
    (
        "Loyalty points reminder e-mail",
        "conversion",
        "email",
        ("control", "treatment"),
        (50, 50),
        0.040,
        (0.0, 0.60),
        "completed",
        False,
    ),
    (
        "Kiosk size recommender",
        "conversion",
        "store_kiosk",
        ("control", "treatment"),
        (50, 50),
        0.080,
        (0.0, 0.0),
        "completed",
        True,
    ),
    (
        "Checkout upsell carousel",
        "revenue_per_user",
        "web",
        ("control", "variant_b", "variant_c"),
        (34, 33, 33),
        0.050,
        (0.0, 0.40, -0.30),
        "completed",
        False,
    ),
    (
        "Search re-rank by fit",
        "conversion",
        "app",
        ("control", "treatment"),
        (50, 50),
        0.070,
        (0.0, 0.40),
        "stopped",
        False,
    ),
    (
        "Win-back discount 15%",
        "conversion",
        "email",
        ("control", "treatment"),
        (50, 50),
        0.030,
        (0.0, 0.80),
        "running",
        False,
    ),
    (
        "Size chart redesign",
        "click_through",
        "web",
        ("control", "treatment"),
        (50, 50),
        0.090,
        (0.0, 0.0),
        "running",
        False,
    ),
    (
        "Personal stylist chat",
        "conversion",
        "web",
        ("control", "treatment"),
        (50, 50),
        0.050,
        (0.0, 0.15),
        "draft",
        False,
    ),
)
EXPERIMENT_COVERAGE = 0.65
"""Share of the customers active during an experiment who get assigned to it."""


def make_experiments(ctx: Ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Experiments (one row each) and their variants with true conversion rates and effects."""
    rng = ctx.rng("world.experiments")
    start, end = ctx.cal.start_day, ctx.cal.end_day
    exps, variants = [], []
    span = end - start
    for i, (name, metric, surface, vs, split, base, effects, status, srm) in enumerate(
        EXPERIMENT_DEFS
    ):
        if status == "draft":
            s_day, e_day = end + 14, None
        elif status == "running":
            s_day, e_day = end - 45 - 10 * i % 30, None
        else:
            s_day = start + 60 + int(i * span / (len(EXPERIMENT_DEFS) + 1))
            e_day = s_day + (21 if status == "stopped" else 42)
        exps.append(
            {
                "experiment_num": i + 1,
                "experiment_id": f"EXP{i + 1:03d}",
                "experiment_name": name,
                "hypothesis": f"{name} raises {metric.replace('_', ' ')}.",
                "primary_metric": metric,
                "surface": surface,
                "variants": ",".join(vs),
                "traffic_split": "/".join(str(s) for s in split),
                "status": status,
                "start_day": s_day,
                "end_day": e_day,
                "is_srm": srm,
                "coverage": EXPERIMENT_COVERAGE * rng.uniform(0.8, 1.0),
            }
        )
        # SRM: the assignment service drops part of the treatment group (55/45 observed)
        actual = np.array(split, dtype=float)
        if srm:
            actual = np.array([55.0, 45.0])
        for k, v in enumerate(vs):
            rate = base * (1 + effects[k])
            variants.append(
                {
                    "experiment_id": f"EXP{i + 1:03d}",
                    "variant_id": v,
                    "variant_idx": k,
                    "true_conversion_rate": rate,
                    "true_effect": rate - base,
                    "true_relative_effect": effects[k],
                    "intended_share": split[k] / sum(split),
                    "actual_share": actual[k] / actual.sum(),
                    "is_srm": srm,
                    "true_click_rate": min(0.9, 2.5 * rate),
                    "mean_revenue": 95.0,
                }
            )
    ctx.counters["experiment"] = max(ctx.counters.get("experiment", 0), len(exps))
    return pl.DataFrame(exps), pl.DataFrame(variants)


MODEL_DEFS = (
    ("churn-xgb", "1.0", "churn", "xgboost", 0.74, -900, -400),
    ("churn-xgb", "2.0", "churn", "xgboost", 0.83, -400, None),
    ("cross-sell-mf", "1.0", "cross_sell", "matrix_factorization", 0.71, -800, None),
    ("clv-bgnbd", "1.0", "clv", "bg_nbd", None, -1000, -300),
    ("clv-bgnbd", "1.1", "clv", "bg_nbd", None, -300, None),
    ("affinity-rf", "1.0", "product_affinity", "random_forest", 0.69, -700, None),
    ("nba-logreg", "1.0", "next_best_action", "logistic_regression", 0.66, -1000, -500),
    ("nba-xgb", "2.0", "next_best_action", "xgboost", 0.72, -500, None),
    ("sentiment-vendor", "2.3", "sentiment", "transformer", 0.88, -1000, -200),
    ("sentiment-vendor", "2.4", "sentiment", "transformer", 0.91, -200, None),
)


def make_models(ctx: Ctx) -> pl.DataFrame:
    end = ctx.cal.end_day
    rows = []
    for i, (name, version, mtype, algo, auc, dep, depr) in enumerate(MODEL_DEFS):
        dep_day = end + dep
        rows.append(
            {
                "model_num": i + 1,
                "model_id": f"MDL{i + 1:03d}",
                "model_name": name,
                "model_version": version,
                "model_type": mtype,
                "algorithm": algo,
                "training_auc": auc,
                "deployed_us": (dep_day * US_PER_DAY) + 10 * 3600 * 10**6,
                "deprecated_us": None
                if depr is None
                else (end + depr) * US_PER_DAY + 9 * 3600 * 10**6,
                "is_active": depr is None,
            }
        )
    ctx.counters["model"] = max(ctx.counters.get("model", 0), len(rows))
    return pl.DataFrame(
        rows, schema_overrides={"training_auc": pl.Float64, "deprecated_us": pl.Int64}
    )
