"""The feature catalogue (docs/features.yml) against the project and the test lake: every model
it names is in the dbt manifest, every command in the command line, every analysis in
analyses/, every sample query returns one non-null value; and the page renders from it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import typer

from engagement_lake.analyst import check_read_only
from engagement_lake.cli import app, main
from engagement_lake.config import PROJECT_ROOT
from engagement_lake.features_doc import (
    CATALOGUE_PATH,
    STATUSES,
    CatalogueError,
    Feature,
    SampleError,
    format_figure,
    lake_origin,
    load_catalogue,
    measure,
    model_yaml_paths,
    render,
    run_sample,
    write_features_doc,
)

CATALOGUE = load_catalogue()
CHECKED = [f for f in CATALOGUE.features if f.is_checked]
WITH_SAMPLE = [f for f in CATALOGUE.features if f.sample]


@pytest.fixture(scope="module")
def manifest(lake) -> dict:
    return json.loads((lake.cfg.target_dir / "manifest.json").read_text())


@pytest.fixture(scope="module")
def relations(manifest) -> set[str]:
    return {
        n["name"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")
    }


@pytest.fixture
def warehouse(lake):
    """A plain read-only connection, outside the generator's sandbox (closed after each test:
    DuckDB refuses a second connection to the file with other settings while one is open)."""
    connection = duckdb.connect(str(lake.cfg.warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def direct(lake) -> dict[str, list[tuple]]:
    """Every sample's rows, run directly on a plain connection rather than by the generator."""
    with duckdb.connect(str(lake.cfg.warehouse), read_only=True) as con:
        return {f.id: con.execute(f.sample).fetchall() for f in CHECKED}


@pytest.fixture(scope="module")
def measured(lake):
    return measure(CATALOGUE, lake.cfg.warehouse)


# ----------------------------------------------------------------------------- the catalogue


def test_ids_are_unique_and_every_area_has_a_feature():
    features_section = CATALOGUE_PATH.read_text(encoding="utf-8").split("\nfeatures:\n", 1)[1]
    raw_ids = re.findall(r"(?m)^  - id: (\S+)$", features_section)
    assert len(raw_ids) == len(CATALOGUE.features) == len(set(raw_ids))
    per_area = Counter(f.area for f in CATALOGUE.features)
    assert {a.id for a in CATALOGUE.areas} == set(per_area)
    assert all(per_area[a.id] >= 1 for a in CATALOGUE.areas)
    assert {f.status for f in CATALOGUE.features} <= set(STATUSES)


def test_checked_and_planned_by_features_carry_what_they_are_checked_with():
    for feature in CATALOGUE.features:
        if feature.is_checked or feature.planned_by:
            assert feature.models and feature.sample, feature.id
        if feature.status == "partial":
            assert feature.missing, feature.id
        if feature.status == "planned":
            assert feature.reason or feature.planned_by, feature.id


def test_serving_planned_work_is_a_one_line_change(tmp_path):
    """Flipping ``status: planned`` to ``served`` on a feature with ``planned_by`` (and renaming
    ``planned_metrics`` to ``metrics``) gives a valid catalogue: nothing else needs editing."""
    waiting = {f.id for f in CATALOGUE.features if f.status == "planned" and f.planned_by}
    if not waiting:
        pytest.skip("no planned feature names the work that will serve it (all of it is served)")
    lines = CATALOGUE_PATH.read_text(encoding="utf-8").splitlines(keepends=True)
    current = None
    changed = 0
    for i, line in enumerate(lines):
        if line.startswith("  - id: "):
            current = line.split(": ", 1)[1].strip()
        if current in waiting and line == "    status: planned\n":
            lines[i] = "    status: served\n"
            changed += 1
        if line.startswith("    planned_metrics: "):
            lines[i] = line.replace("planned_metrics", "metrics", 1)
    assert changed == len(waiting)
    flipped = tmp_path / "features.yml"
    flipped.write_text("".join(lines), encoding="utf-8")
    served = {f.id for f in load_catalogue(flipped).features if f.status == "served"}
    assert waiting <= served


def test_every_model_is_in_the_manifest_unless_planned(relations):
    missing = [(f.id, m) for f in CHECKED for m in f.models if m not in relations]
    assert not missing, f"models not in the dbt manifest: {missing}"


def test_every_metric_is_in_the_manifest_unless_planned(manifest):
    metrics = {m["name"] for m in manifest.get("metrics", {}).values()}
    missing = [(f.id, m) for f in CHECKED for m in f.metrics if m not in metrics]
    assert not missing, f"metrics not in the dbt manifest: {missing}"


def test_every_analysis_exists_unless_planned(manifest):
    analyses = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "analysis"}
    for feature in CHECKED:
        for stem in feature.analyses:
            assert (PROJECT_ROOT / "analyses" / f"{stem}.sql").is_file(), (feature.id, stem)
            assert stem in analyses, (feature.id, stem)


def _cli_command(words: list[str]):
    """The click command a path of sub-command words reaches, or None."""
    command = typer.main.get_command(app)
    for word in words:
        commands = getattr(command, "commands", None)
        if commands is None or word not in commands:
            return None
        command = commands[word]
    return command


def test_every_command_and_option_exists_unless_planned():
    for feature in CHECKED:
        for text in feature.cli_commands:
            tokens = text.split()[1:]
            words = [t for t in tokens if not t.startswith("-")]
            options = [t for t in tokens if t.startswith("-")]
            command = _cli_command(words)
            assert command is not None, f"{feature.id}: no command '{text}'"
            declared = {opt for param in command.params for opt in param.opts}
            assert set(options) <= declared, f"{feature.id}: '{text}' has an unknown option"


def test_the_command_check_would_catch_a_missing_command():
    assert _cli_command(["customer"]) is not None
    assert _cli_command(["mdm", "evaluate"]) is not None
    assert _cli_command(["mdm", "no-such-thing"]) is None
    assert _cli_command(["no-such-command"]) is None


def test_every_sample_is_read_only():
    for feature in WITH_SAMPLE:
        check_read_only(feature.sample)


# ----------------------------------------------------------------------------- on the lake


@pytest.mark.parametrize("feature", CHECKED, ids=lambda f: f.id)
def test_sample_returns_one_non_null_value(direct, measured, feature: Feature):
    """Run directly, outside the generator, each sample gives one row of one non-null value,
    and that value is the figure the page shows."""
    rows = direct[feature.id]
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    assert rows[0][0] is not None
    assert measured[feature.id].sample == rows[0][0]


def test_primary_row_counts_match_the_warehouse(warehouse, measured):
    preferred = dict(
        warehouse.execute(
            "select table_name, table_schema from information_schema.tables"
            " where table_schema in ('gold', 'silver', 'history', 'quality', 'staging')"
            " order by case table_schema when 'gold' then 1 when 'silver' then 2"
            " when 'history' then 3 when 'quality' then 4 else 5 end desc"
        ).fetchall()
    )
    for feature in CHECKED:
        primary = feature.models[0]
        relation = f"{preferred[primary]}.{primary}"
        expected = warehouse.execute(f"select count(*) from {relation}").fetchone()[0]
        assert measured[feature.id].primary_rows == expected, feature.id
    assert measured["profile-360-view"].primary_rows > 0
    assert set(measured) == {f.id for f in CHECKED}


def test_a_sample_with_no_value_or_a_write_is_refused(warehouse):
    for sample, problem in (
        ("select 1 where false", "no value"),
        ("select null", "null"),
        ("select 1, 2", "1 row(s) of 2 column(s)"),
        ("select * from (values (1), (2)) as t(x)", "2 row(s)"),
        ("delete from gold.fct_orders", "sample query failed"),
    ):
        feature = Feature("bad-sample", "profile", "x", "x", "served", ("x",), sample=sample)
        with pytest.raises(SampleError, match=re.escape(problem)):
            run_sample(warehouse, feature)


# ----------------------------------------------------------------------------- the page


def test_the_page_renders_every_feature_with_its_figures(lake, measured, tmp_path):
    out = tmp_path / "docs" / "features.md"
    code = main(
        [
            "features",
            "--warehouse",
            str(lake.cfg.warehouse),
            "--data-dir",
            str(lake.cfg.data_dir),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = out.read_text(encoding="utf-8")
    counts = CATALOGUE.status_counts()
    assert (
        f"**{counts['served']} served**, **{counts['partial']} partial**, "
        f"**{counts['planned']} planned**" in text
    )
    assert "scale 0.02 with seed 7" in text
    for area in CATALOGUE.areas:
        assert f"\n## {area.title}\n" in text
    rows = {
        line.split("(`", 1)[1].split("`)", 1)[0]: line
        for line in text.splitlines()
        if line.startswith("| **") and "(`" in line
    }
    assert set(rows) == {f.id for f in CATALOGUE.features}
    for feature in CATALOGUE.features:
        cells = rows[feature.id].split(" | ")
        assert cells[1] == feature.status
        for metric in feature.planned_metrics:
            assert f"metric `{metric}` (planned)" in cells[2]
        if feature.is_checked:
            assert f"**{format_figure(measured[feature.id].sample)}**" in cells[4]
        else:
            assert "*planned" in cells[2]


def test_the_page_links_resolve(measured, tmp_path):
    for out in (tmp_path / "features.md", tmp_path / "nested" / "deeper" / "features.md"):
        text = render(CATALOGUE, measured, "a test lake", out)
        links = re.findall(r"\]\(([^)#]+)\)", text)
        assert links
        for link in links:
            assert (out.parent / link).resolve().is_file(), link


def test_model_yaml_paths_document_each_model():
    paths = model_yaml_paths()
    for feature in CATALOGUE.features:
        for model in feature.models:
            if model in paths:
                assert f"name: {model}" in paths[model].read_text(encoding="utf-8")
    assert paths["mart_customer_360"].name == "_marts__models.yml"


def test_the_committed_page_lists_every_feature():
    text = (PROJECT_ROOT / "docs" / "features.md").read_text(encoding="utf-8")
    for feature in CATALOGUE.features:
        assert f"(`{feature.id}`)" in text, f"docs/features.md is stale: {feature.id}"


def test_lake_origin_reads_scale_and_seed(lake, tmp_path):
    assert lake_origin(lake.cfg.data_dir).startswith("a lake generated at scale 0.02 with seed 7")
    assert "unknown" in lake_origin(tmp_path)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1234, "1,234"), (0.123456, "0.1235"), (12345.678, "12,345.68"), (2.0, "2"), (True, "yes")],
)
def test_figures_are_formatted_for_reading(value, shown):
    assert format_figure(value) == shown


# ----------------------------------------------------------------------------- bad catalogues

GOOD_FEATURE = """
  - id: one
    area: a
    name: One
    description: The first.
    status: served
    models: [fct_orders]
    sample: select 1
"""


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (GOOD_FEATURE + GOOD_FEATURE, "feature 'one': id is used twice"),
        (GOOD_FEATURE.replace("area: a", "area: b"), "area 'b' is not one of"),
        (GOOD_FEATURE.replace("status: served", "status: done"), "status 'done' must be one of"),
        (GOOD_FEATURE.replace("status: served", "status: partial"), "says what is 'missing'"),
        (GOOD_FEATURE.replace("status: served", "status: planned"), "gives a 'reason'"),
        (GOOD_FEATURE.replace("    sample: select 1\n", ""), "needs a sample query"),
        (GOOD_FEATURE.replace("models: [fct_orders]", "models: []"), "needs at least one model"),
        (GOOD_FEATURE.replace("id: one", "id: One_1"), "must be kebab-case"),
        (GOOD_FEATURE + "    colour: red\n", "unknown key(s) colour"),
        (GOOD_FEATURE + "    reason: none yet\n", "'reason' belongs to planned features only"),
        (GOOD_FEATURE + "    commands: [dbt run]\n", "command 'dbt run' must start with"),
        (
            GOOD_FEATURE.replace("status: served", "status: planned\n    planned_by: x").replace(
                "    sample: select 1\n", ""
            ),
            "a planned_by feature needs a sample query",
        ),
    ],
)
def test_a_malformed_catalogue_fails_in_one_line(tmp_path: Path, features: str, message: str):
    path = tmp_path / "features.yml"
    path.write_text("areas:\n  - id: a\n    title: A\nfeatures:" + features, encoding="utf-8")
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(path)
    text = str(raised.value)
    assert message in text and str(path) in text and "\n" not in text


def test_an_area_without_features_fails(tmp_path: Path):
    path = tmp_path / "features.yml"
    path.write_text(
        "areas:\n  - id: a\n    title: A\n  - id: b\n    title: B\nfeatures:" + GOOD_FEATURE,
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="area 'b': has no feature"):
        load_catalogue(path)


def test_the_command_reports_a_bad_catalogue_in_one_line(lake, tmp_path, capsys):
    path = tmp_path / "features.yml"
    path.write_text("areas: []\nfeatures: {}\n", encoding="utf-8")
    code = main(
        [
            "features",
            "--warehouse",
            str(lake.cfg.warehouse),
            "--catalogue",
            str(path),
            "--out",
            str(tmp_path / "out.md"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs a list 'areas' and a list 'features'" in err
    assert not (tmp_path / "out.md").exists()


def test_write_features_doc_returns_the_catalogue(lake, tmp_path):
    out = tmp_path / "features.md"
    done = write_features_doc(lake.cfg.warehouse, lake.cfg.data_dir, out)
    assert done.status_counts() == CATALOGUE.status_counts()
    assert out.read_text(encoding="utf-8").startswith("# Feature map\n")
