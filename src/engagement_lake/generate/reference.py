"""The world's reference data, made by the systems that own it: the shop's catalogue and stores,
the sales organisation, the campaigns, the experiments and the model registry.

All of it comes from the seed alone (each maker draws from its own named random stream), so a
daily load rebuilds exactly what the backfill made instead of storing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from engagement_lake.generate.context import Ctx
from engagement_lake.generate.systems.crm import organisation
from engagement_lake.generate.systems.marketing import campaigns
from engagement_lake.generate.systems.mlops import registry
from engagement_lake.generate.systems.shop import catalog


@dataclass(frozen=True)
class Reference:
    products: pl.DataFrame
    stores: pl.DataFrame
    territories: pl.DataFrame
    reps: pl.DataFrame
    campaigns: pl.DataFrame
    experiments: pl.DataFrame
    variants: pl.DataFrame
    models: pl.DataFrame


def reference_data(ctx: Ctx) -> Reference:
    """Every reference table of the world ``ctx`` describes (seed, scale, as-of date)."""
    experiments, variants = registry.make_experiments(ctx)
    return Reference(
        products=catalog.make_products(ctx),
        stores=catalog.make_stores(ctx),
        territories=organisation.make_territories(ctx),
        reps=organisation.make_reps(ctx),
        campaigns=campaigns.make_campaigns(ctx),
        experiments=experiments,
        variants=variants,
        models=registry.make_models(ctx),
    )
