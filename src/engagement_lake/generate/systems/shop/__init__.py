"""shop: customer accounts, the catalogue, orders with their lines, returns, web sessions and
store visits.

``params`` holds the one parameter set; ``accounts``, ``products``, ``orders``, ``returns`` and
``sessions`` make the rows of the backfill and of a daily load from the same builders; ``fates``
decides what happens to an order and its lines after they are placed, keyed by their ids so a
later daily load can carry it on.
"""
