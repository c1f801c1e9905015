"""support: the Zendesk-like desk -- requesters, tickets, ticket messages, call transcripts and
surveys.

``rules`` holds the one parameter set and the plan of each ticket's life, ``rows`` the row
builders, ``backfill`` the history up to the as-of date and ``daily`` one more day of it.
"""

from engagement_lake.generate.systems.support.backfill import emit
from engagement_lake.generate.systems.support.daily import daily

__all__ = ["daily", "emit"]
