"""One module (or package) per source system: the only place that system's rows are made.

Each system owns its parameters and row builders, and uses them for both the backfill (a
``Block`` of people over all history) and a daily load (a ``Day``). ``generate/pipeline.py``
and ``generate/increment.py`` only orchestrate: the order systems run in, state, replays, late
rows, faults and truth.
"""
