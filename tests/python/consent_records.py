"""The consent each golden customer's source records last stated, read from staging: the shop
account's marketing opt-in and preferred channel, the e-mail platform's subscription status.

The independent side of the tests of e-mail reach (cookbook q15) and of the profile's
communication preferences: both take, per golden customer, the most recently updated record of
each system (ties: the lowest source id), as silver's survivorship does."""

from __future__ import annotations

from datetime import datetime

import duckdb


def latest_record(rows: list[tuple]) -> dict[str, tuple]:
    """golden customer_id -> the values of its most recently updated source record (ties: the
    lowest source id; a record without an update time comes last), from
    (customer_id, source_id, updated_at, *values) rows."""
    best: dict[str, tuple] = {}
    for customer_id, _, _, *values in sorted(rows, key=_recency):
        best.setdefault(customer_id, tuple(values))
    return best


def _recency(row: tuple) -> tuple:
    _, source_id, updated_at, *_ = row
    stamp: datetime | None = updated_at
    return (stamp is None, -stamp.timestamp() if stamp else 0.0, source_id)


def latest_consent(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """(shop: customer_id -> (has_marketing_opt_in, preferred_channel), subscribers:
    customer_id -> (status,)), each from the customer's latest record in that system."""
    shop = latest_record(
        con.execute(
            """
            select x.customer_id, s.customer_id, s.updated_at, s.has_marketing_opt_in,
                   s.preferred_channel
            from staging.stg_shop__customers s
            join silver.customer_xref x
              on x.source_system = 'shop' and x.source_id = s.customer_id
            """
        ).fetchall()
    )
    subscribers = latest_record(
        con.execute(
            """
            select x.customer_id, s.subscriber_id, s.updated_at, s.status
            from staging.stg_marketing__subscribers s
            join silver.customer_xref x
              on x.source_system = 'marketing' and x.source_id = s.subscriber_id
            """
        ).fetchall()
    )
    return shop, subscribers
