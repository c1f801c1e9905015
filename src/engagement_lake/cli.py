"""The ``engagement-lake`` command: a thin Typer layer over functions the tests call directly.

Heavy libraries (dbt, great_expectations, splink) are imported inside the commands that need
them, so ``engagement-lake --help`` answers instantly.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from engagement_lake import config

app = typer.Typer(
    name="engagement-lake",
    help="Engagement Lake: generate bronze data, build silver and gold with dbt, check quality.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
schemas_app = typer.Typer(
    help="Validate the contracts in schemas/ and generate code from them.", no_args_is_help=True
)
app.add_typer(schemas_app, name="schemas")
mdm_app = typer.Typer(help="Master data: evaluate customer matching.", no_args_is_help=True)
app.add_typer(mdm_app, name="mdm")

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder holding bronze/ [env ENGAGEMENT_LAKE_DATA_DIR, default data]",
    ),
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="DuckDB warehouse file [env ENGAGEMENT_LAKE_WAREHOUSE, "
        "default warehouse/engagement.duckdb]",
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


# ----------------------------------------------------------------------------- schemas


@schemas_app.command("validate")
def schemas_validate(
    root: Annotated[
        Path | None, typer.Option(help="Folder of contracts [default schemas/]")
    ] = None,
) -> None:
    """Validate every contract; print one line per table."""
    from engagement_lake.contracts import ContractError, load_contracts

    try:
        contracts = load_contracts(root)
    except ContractError as exc:
        raise _fail(str(exc)) from None
    for contract in contracts.values():
        personal = sum(c.is_personal for c in contract.columns)
        typer.echo(
            f"{contract.fqn:<40} {len(contract.columns):>3} columns  "
            f"pk={','.join(contract.primary_key)}  personal={personal}"
        )
    typer.echo(f"{len(contracts)} contracts valid")


@schemas_app.command("sync")
def schemas_sync(
    check: Annotated[
        bool, typer.Option("--check", help="Only report stale files; exit 1 if any")
    ] = False,
) -> None:
    """Regenerate the dbt sources, staging models and quality models from the contracts."""
    from engagement_lake.codegen import sync
    from engagement_lake.contracts import ContractError

    try:
        result = sync(check=check)
    except ContractError as exc:
        raise _fail(str(exc)) from None
    for path in result.written:
        typer.echo(f"wrote {path.relative_to(config.PROJECT_ROOT)}")
    if result.stale:
        for path in result.stale:
            typer.echo(f"out of date: {path.relative_to(config.PROJECT_ROOT)}", err=True)
        raise _fail(
            "generated sources are out of date with schemas/: run `engagement-lake schemas sync`"
        )
    typer.echo(f"{len(result.written)} written, {len(result.unchanged)} unchanged")


@schemas_app.command("ddl")
def schemas_ddl(
    dialect: Annotated[
        str, typer.Option(help="duckdb, spark, snowflake, redshift or trino")
    ] = "duckdb",
    schema: Annotated[str, typer.Option(help="Target schema for the bronze tables")] = "bronze",
) -> None:
    """Print CREATE TABLE statements for the bronze tables, transpiled by sqlglot."""
    from engagement_lake.codegen import DDL_DIALECTS, warehouse_ddl
    from engagement_lake.contracts import ContractError

    if dialect not in DDL_DIALECTS:
        raise _fail(f"unknown dialect {dialect!r}; choose one of {', '.join(DDL_DIALECTS)}", 2)
    try:
        typer.echo(warehouse_ddl(dialect=dialect, schema=schema), nl=False)
    except ContractError as exc:
        raise _fail(str(exc)) from None


# ----------------------------------------------------------------------------- generate / build


@app.command()
def generate(
    scale: Annotated[
        float, typer.Option(help="1 = 100,000 people, ~10M rows")
    ] = config.DEFAULT_SCALE,
    seed: Annotated[
        int, typer.Option(help="Random seed: same scale and seed, same data")
    ] = config.DEFAULT_SEED,
    data_dir: DataDirOpt = None,
    day: Annotated[
        str | None, typer.Option(help="Append one daily load (YYYY-MM-DD) instead of a backfill")
    ] = None,
    as_of: Annotated[
        str, typer.Option(help="Last day of the backfill history")
    ] = config.DEFAULT_AS_OF.isoformat(),
    faults: Annotated[
        bool, typer.Option("--faults", help="Inject labelled contract breaks")
    ] = False,
) -> None:
    """Generate the synthetic source systems as bronze Parquet (backfill, or one --day)."""
    from engagement_lake.generate import generate as run_generate
    from engagement_lake.generate import generate_day

    folder = config.data_dir(data_dir)
    try:
        if day:
            result = generate_day(folder, date.fromisoformat(day), seed=seed, faults=faults)
        else:
            result = run_generate(
                folder, scale=scale, seed=seed, as_of=date.fromisoformat(as_of), faults=faults
            )
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    total = sum(result.rows.values())
    typer.echo(
        f"{total:,} rows in {len(result.rows)} tables, batch {result.batch_id}, "
        f"{result.seconds:.1f}s → {folder / 'bronze'}"
    )


@app.command()
def build(
    data_dir: DataDirOpt = None,
    warehouse: WarehouseOpt = None,
    select: Annotated[
        list[str] | None, typer.Option("--select", "-s", help="dbt selection")
    ] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh")] = False,
) -> None:
    """Run `dbt build` on the bronze data into the DuckDB warehouse."""
    from engagement_lake.dbt_runner import BronzeFileError, DbtError
    from engagement_lake.dbt_runner import build as run_build

    cfg = config.RunConfig(config.data_dir(data_dir), config.warehouse_path(warehouse))
    try:
        run_build(cfg, select or (), full_refresh=full_refresh, unreadable=unreadable)
    except BronzeFileError as exc:
        raise _fail(str(exc)) from None
    except DbtError as exc:
        raise _fail(f"dbt build failed:\n{exc}") from None


@app.command()
def demo(
    scale: Annotated[
        float, typer.Option(help="Scale factor of the demo world")
    ] = config.DEFAULT_SCALE,
    seed: Annotated[int, typer.Option(help="Random seed")] = config.DEFAULT_SEED,
    data_dir: DataDirOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Generate the demo data, build the warehouse and print how to query it."""
    from engagement_lake.demo import run_demo

    cfg = config.RunConfig(
        config.data_dir(data_dir), config.warehouse_path(warehouse), scale=scale, seed=seed
    )
    try:
        summary = run_demo(cfg)
    except RuntimeError as exc:
        raise _fail(str(exc)) from None
    typer.echo(summary)


@mdm_app.command("evaluate")
def mdm_evaluate(data_dir: DataDirOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Compare silver.customer_xref with DIR/_truth/identity.parquet: pairwise P/R/F1, clusters."""
    import duckdb
    import polars as pl

    from engagement_lake.mdm import evaluate_matches

    folder = config.data_dir(data_dir)
    truth_path = folder / "_truth" / "identity.parquet"
    db = config.warehouse_path(warehouse)
    if not truth_path.exists():
        raise _fail(f"{truth_path}: no ground truth (generate the data with engagement-lake generate)")
    if not db.exists():
        raise _fail(f"{db}: no warehouse (run engagement-lake build)")
    with duckdb.connect(str(db), read_only=True) as con:
        xref = con.execute("select * from silver.customer_xref").pl()
    typer.echo(str(evaluate_matches(xref, pl.read_parquet(truth_path))))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
