"""The benchmarks, in one place: each module times or measures a part of the library against a
named reference in the same run, and the library never imports them.

- ``generate``: ``make bench-generate``, scale 1 beside DuckDB's TPC-H sf=1;
- ``check``: ``make bench-check``, the quality checks against the build they check;
- ``build``: ``make bench-build``, the dbt build against its own compiled SQL run raw and the
  I/O floor;
- ``mdm_noise``: ``make bench-mdm-noise``, matching on the generator at each identity noise level
  (a self-check; the evidence is the public benchmark, ``engagement-lake mdm benchmark``).
"""
