"""crm: the CRM source system (leads, contacts, opportunities and their stage history,
activities, quotes, commissions, referrals, quotas; sales reps and territories are reference
data of ``world``).

``backfill.emit`` writes a block's history; ``daily`` a day's load. Both build rows with the
same functions (``leads``, ``opportunities``, ``activities``, ``compensation``) from one
parameter set (``params``).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import world
from engagement_lake.generate.daily import HOUR, Day
from engagement_lake.generate.systems.crm import compensation, leads, opportunities
from engagement_lake.generate.systems.crm.backfill import emit
from engagement_lake.generate.systems.crm.compensation import (
    commission_rows,
    expected_monthly_won,
    quota_amounts,
    quotas,
)
from engagement_lake.generate.systems.crm.params import sales_params

CONTACT_EMAIL_CHANGE_SHARE = 0.001
"""Share of contacts whose e-mail changes on a day."""


def daily(d: Day) -> None:
    """A day of the CRM: the pipeline moves (new deals, activity, stage moves, probabilities,
    commission on won deals, a new month's quotas), contacts change e-mail, new leads."""
    rng = d.rng("crm")
    won = opportunities.daily(d, rng)
    compensation.daily(d, rng, won)
    _contact_emails(d, rng)
    leads.daily(d, rng)


def _contact_emails(d: Day, rng: np.random.Generator) -> None:
    """Contacts whose e-mail changed (the person's address changes in the truth as well)."""
    contacts = d.bronze.latest("crm.contacts", "email IS NOT NULL")
    if len(contacts):
        k = max(1, int(rng.poisson(max(len(contacts) * CONTACT_EMAIL_CHANGE_SHARE, 1))))
        pick = np.sort(rng.choice(len(contacts), min(k, len(contacts)), replace=False))
        rows = contacts[pick]
        owners = d.ident.filter(pl.col("source_system") == "crm.contacts").select(
            "source_id", "person_id"
        )
        rows_p = rows.join(
            owners, left_on="contact_id", right_on="source_id", how="left", maintain_order="left"
        )
        people = d.people.join(
            rows_p.select("person_id").unique(maintain_order=True), on="person_id", how="semi"
        )
        domains = [x for x, _ in world.vocab.EMAIL_DOMAINS]
        new_local = (
            people["first_name"].str.to_lowercase()
            + "."
            + people["last_name"].str.to_lowercase().str.replace_all(r"[^a-z]", "")
            + "."
            + people["person_id"].cast(pl.String)
            + pl.Series([str(d.day % 100)] * len(people))
        )
        new_email = (
            new_local + "@" + pl.Series(domains).gather(rng.integers(0, len(domains), len(people)))
        )
        mapping = dict(zip(people["person_id"].to_list(), new_email.to_list(), strict=True))
        emails = [mapping.get(p) for p in rows_p["person_id"].to_list()]
        us = d.start_us + rng.integers(8 * HOUR, 20 * HOUR, len(rows))
        d.add(
            "crm.contacts",
            rows.with_columns(
                email=pl.Series(emails, dtype=pl.String),
                last_modified_date=pl.Series(us).cast(pl.Datetime("us")),
            ),
        )
        d.people = d.people.with_columns(
            prev_email=pl.when(pl.col("person_id").is_in(list(mapping)))
            .then(pl.col("email"))
            .otherwise(pl.col("prev_email")),
            email=pl.col("person_id").replace_strict(
                mapping, default=pl.col("email"), return_dtype=pl.String
            ),
        )
    # new leads (prospects, some of them people already captured before)


__all__ = [
    "commission_rows",
    "daily",
    "emit",
    "expected_monthly_won",
    "quota_amounts",
    "quotas",
    "sales_params",
]
