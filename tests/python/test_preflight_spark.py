"""The preflight's memory of the last build reads a Spark folder too: the spark target's
quality.reconciliation is a folder of Parquet files, not a table in a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from engagement_lake.parity import spark_table_path
from engagement_lake.preflight import NoBronzeError, check_sources_kept, previous_sources


def _spark_folder(root: Path) -> Path:
    spark_dir = root / "spark"
    folder = spark_table_path(spark_dir, "quality", "reconciliation")
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select * from (values
                    ('shop', 'orders', 12::bigint, 0::bigint),
                    ('shop', 'returns', 0::bigint, 0::bigint),
                    ('crm', 'leads', 0::bigint, 3::bigint)
                ) as t(system, table_name, bronze_rows, skipped_file_rows)
            ) to '{folder / "part-00000.parquet"}' (format parquet)
            """
        )
    return spark_dir


def test_previous_sources_of_a_spark_folder(tmp_path: Path) -> None:
    spark_dir = _spark_folder(tmp_path)
    # tables with rows, counting the rows of files the preflight set aside
    assert previous_sources(spark_dir) == {"shop.orders", "crm.leads"}
    with pytest.raises(NoBronzeError, match=r"lacks 1 source table\(s\).*\(crm\.leads\)"):
        check_sources_kept({"shop.orders", "shop.returns"}, previous_sources(spark_dir))


def test_a_spark_folder_never_built_has_no_previous_sources(tmp_path: Path) -> None:
    (tmp_path / "spark" / "metastore_db").mkdir(parents=True)
    assert previous_sources(tmp_path / "spark") == set()
