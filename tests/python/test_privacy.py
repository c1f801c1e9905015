"""Personal data: classified by the contracts, carried by lineage to every gold column computed
from it, masked in the export with keyed pseudonyms and redaction — and a leak test that looks
for any personal value, or an unsalted hash of one, in what the export writes."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import re
import stat
from pathlib import Path

import duckdb
import pytest

from engagement_lake.config import PROJECT_ROOT, RunConfig
from engagement_lake.contracts import ContractError, load_contracts, parse_contract
from engagement_lake.export import export_gold, redactor_for
from engagement_lake.lineage import (
    DOC_PATH,
    PERSONAL,
    PERSONAL_TEXT,
    SENSITIVE,
    LineageError,
    compute_lineage,
    gold_classifications,
    render_doc,
    warehouse_columns,
)
from engagement_lake.privacy import (
    KEY_ENV,
    PSEUDONYM_FUNCTION,
    PrivacyError,
    Pseudonymiser,
    Redactor,
    masking_expression,
    name_words,
    pseudonym_key,
    register,
)

# ----------------------------------------------------------------------------- the key


@pytest.fixture
def no_key_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "engagement-lake" / "pseudonym.key"


def test_the_key_file_is_made_once_private_and_reused(no_key_env: Path) -> None:
    assert not no_key_env.exists()
    first = pseudonym_key()
    assert no_key_env.exists()
    assert stat.S_IMODE(no_key_env.stat().st_mode) == 0o600
    assert len(first) == 64 and re.fullmatch(rb"[0-9a-f]{64}", first)
    assert pseudonym_key() == first


def test_a_key_file_others_can_read_is_refused(no_key_env: Path) -> None:
    pseudonym_key()
    os.chmod(no_key_env, 0o644)
    with pytest.raises(PrivacyError, match=r"readable by others \(mode 644\); run chmod 600"):
        pseudonym_key()


def test_a_key_file_inside_the_repository_is_refused(
    monkeypatch: pytest.MonkeyPatch, no_key_env: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(PROJECT_ROOT / "target" / "config"))
    with pytest.raises(PrivacyError, match="inside the repository"):
        pseudonym_key()
    assert not (PROJECT_ROOT / "target" / "config").exists()


def test_the_environment_key_wins_and_must_be_long(
    monkeypatch: pytest.MonkeyPatch, no_key_env: Path
) -> None:
    monkeypatch.setenv(KEY_ENV, "k" * 40)
    assert pseudonym_key() == b"k" * 40
    assert not no_key_env.exists()
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(PrivacyError, match=f"{KEY_ENV} is 5 characters; use at least 32"):
        pseudonym_key()


def test_pseudonyms_are_hmac_sha256() -> None:
    key = b"0123456789abcdef0123456789abcdef-and-more"
    value = "jane.doe@example.com"
    expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]
    assert Pseudonymiser(key)(value) == expected
    assert Pseudonymiser(b"another key of thirty-two characters")(value) != expected
    long_key = b"x" * 100  # longer than a SHA-256 block: hashed first, as RFC 2104 says
    assert (
        Pseudonymiser(long_key)(value)
        == hmac.new(long_key, value.encode(), hashlib.sha256).hexdigest()[:32]
    )


@pytest.mark.parametrize("key", [b"0123456789abcdef0123456789abcdef", b"x" * 100])
def test_the_sql_pseudonym_is_the_same_hmac(key: bytes) -> None:
    """The masking connection computes pseudonyms in SQL (a temporary macro over DuckDB's
    sha256): the same digits as hmac for every kind of text, null for null, and nothing of it
    in a database file."""
    values = ["", "a", "jane.doe@example.com", "Zoë Ångström", "名前", "O'Brien 😀", "x" * 5000]
    con = duckdb.connect()
    register(con, Pseudonymiser(key))
    got = con.execute(
        f"select {PSEUDONYM_FUNCTION}(v) from unnest(?) with ordinality as t(v, n) order by n",
        [[*values, None]],
    ).fetchall()
    expected = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in values]
    assert [g for (g,) in got] == [*expected, None]
    temporary = con.execute(
        "select count(*) from duckdb_functions()"
        " where function_name = ? and database_name = 'temp'",
        [PSEUDONYM_FUNCTION],
    ).fetchone()[0]
    assert temporary == 1


def test_masking_rules() -> None:
    assert masking_expression('"email"', "VARCHAR", PERSONAL) == 'el_pseudonym("email")'
    assert masking_expression('"b"', "DATE", PERSONAL) == "cast(date_trunc('year', \"b\") as date)"
    assert masking_expression('"n"', "INTEGER", PERSONAL) == "cast(null as INTEGER)"
    assert masking_expression('"t"', "VARCHAR", PERSONAL_TEXT) == 'el_redact("t")'
    assert masking_expression('"c"', "BIGINT", "derived-aggregate") is None
    assert masking_expression('"c"', "VARCHAR", "internal") is None


def test_redaction_hides_names_emails_handles_and_phones() -> None:
    redact = Redactor({"gupta", "sam", "o'neil"}, {"@sam_g42"})
    assert redact("Gupta - Upsell") == "[name] - Upsell"
    assert redact(
        "this is Sam speaking, write to sam.g+x@mail.example.com or +1 (555) 123-4567"
    ) == ("this is [name] speaking, write to [email] or [phone]")
    assert redact("@sam_g42 loved it, thanks @DXL") == "[handle] loved it, thanks @DXL"
    assert redact("Great value for the money") == "Great value for the money"


def test_the_redactor_knows_the_words_name_words_finds() -> None:
    """redactor_for splits all-ASCII values in DuckDB and the others with name_words: together
    exactly the words name_words finds in every value; e-mails give none, handles are whole."""
    values = [
        "Mary-Jane O'Neil", "Zoë Ångström", "Ōtsuka 大阪", "St. Kilda Rd 12", "x", "ÉLODIE",
        "jane.doe@example.com", "@JaneDoe", "Straße", "İlkay", "ΟΔΥΣΣΕΑΣ", "Ⅻ Oaks",
    ]  # fmt: skip
    con = duckdb.connect()
    con.execute("create schema staging")
    con.execute("create table staging.people (name varchar, city varchar)")
    con.executemany("insert into staging.people values (?, ?)", [[v, None] for v in values])
    personal = {"meta": {"classification": PERSONAL}}
    node = {
        "resource_type": "model", "schema": "staging", "name": "people",
        "columns": {"name": personal, "city": personal},
    }  # fmt: skip
    redactor = redactor_for(con, {"nodes": {"model.x.people": node}})
    assert redactor.words == name_words(v for v in values if "@" not in v)
    assert {"mary", "jane", "zoë", "ångström", "大阪", "kilda", "élodie"} <= redactor.words
    assert redactor.handles == {"@janedoe"}


def test_a_contract_classification_outside_the_vocabulary_is_one_line(tmp_path: Path) -> None:
    source = PROJECT_ROOT / "schemas" / "crm" / "sales_reps.odcs.yaml"
    text = source.read_text().replace("classification: personal", "classification: secret", 1)
    with pytest.raises(
        ContractError, match="'secret' is not one of internal, personal, personal-text"
    ):
        parse_contract(source, text)


def test_staff_and_free_text_are_classified_in_the_contracts() -> None:
    contracts = load_contracts()
    reps = contracts["crm.sales_reps"]
    assert reps.column("full_name").classification == PERSONAL
    assert reps.column("email").classification == PERSONAL
    for fqn, column in (
        ("crm.opportunities", "opportunity_name"),
        ("crm.activities", "subject"),
        ("support.tickets", "subject"),
        ("support.ticket_messages", "body"),
        ("support.call_transcripts", "transcript"),
        ("support.surveys", "verbatim"),
        ("reviews.product_reviews", "review_text"),
        ("social.mentions", "mention_text"),
    ):
        assert contracts[fqn].column(column).classification == PERSONAL_TEXT, fqn


# ----------------------------------------------------------------------------- lineage


@pytest.fixture(scope="module")
def manifest(lake) -> dict:
    return json.loads((lake.cfg.target_dir / "manifest.json").read_text())


@pytest.fixture(scope="module")
def built_columns(lake) -> dict:
    return warehouse_columns(lake.cfg.warehouse)


@pytest.fixture(scope="module")
def lineage(manifest, built_columns):
    return compute_lineage(manifest, built_columns)


def test_every_gold_column_derived_from_personal_data_is_classified(lineage) -> None:
    missing = [
        f"{c.model}.{c.column} (from {sorted(lineage.personal_roots(c.model, c.column))})"
        for c in lineage.undeclared_in("gold")
    ]
    assert missing == []


def test_lineage_reaches_the_contracts(lineage) -> None:
    full_name = lineage.columns[("dim_customer", "full_name")]
    assert full_name.declared == PERSONAL and full_name.inherited == PERSONAL
    roots = lineage.personal_roots("dim_customer", "full_name")
    assert {("stg_shop__customers", "first_name"), ("stg_shop__customers", "last_name")} <= roots
    # loyalty and support keep one full name: a Python model (nameparser) splits it; lineage
    # cannot read Python, so its columns are declared personal in YAML
    assert lineage.columns[("int_customer_full_names", "last_name")].declared == PERSONAL
    assert lineage.personal_roots("mart_customer_360", "email") >= {
        ("stg_shop__customers", "email"),
        ("stg_marketing__subscribers", "email"),
    }
    assert lineage.personal_roots("dim_sales_rep", "work_email") == {
        ("stg_crm__sales_reps", "email")
    }
    opportunity = lineage.columns[("mart_opportunity_followups", "opportunity_name")]
    assert opportunity.inherited == PERSONAL_TEXT
    # the Python model passes the texts it scores through by name
    assert lineage.columns[("sentiment_unified", "text")].inherited == PERSONAL_TEXT
    # a key chosen by matching on e-mail is declared, and stops the inheritance there
    golden_lead = lineage.columns[("int_leads_deduplicated", "golden_lead_id")]
    assert golden_lead.derived_from_personal and golden_lead.declared == "derived-aggregate"
    assert not lineage.columns[("fct_sales_opportunities", "lead_id")].derived_from_personal
    # a column that reads no personal data inherits nothing
    assert lineage.columns[("dim_customer", "loyalty_tier")].inherited is None


def test_a_new_unclassified_personal_column_fails_the_lineage_test(manifest, built_columns) -> None:
    """The mutation test: a gold column computed from a personal one, without classification."""
    mutated = copy.deepcopy(manifest)
    node = mutated["nodes"]["model.engagement_lake.mart_customer_360"]
    node["compiled_code"] = (
        "select *, upper(split_part(email, '@', 1)) as email_handle, "
        "length(full_name) as name_length "
        f"from ({node['compiled_code']}) as mutated"
    )
    found = compute_lineage(mutated, built_columns)
    assert {(c.model, c.column) for c in found.undeclared_in("gold")} == {
        ("mart_customer_360", "email_handle"),
        ("mart_customer_360", "name_length"),
    }
    # and forgetting a declaration that exists is caught too
    dropped = copy.deepcopy(manifest)
    column = dropped["nodes"]["model.engagement_lake.dim_sales_rep"]["columns"]["work_email"]
    column["config"]["meta"].pop("classification")
    column.get("meta", {}).pop("classification", None)
    found = compute_lineage(dropped, built_columns)
    assert [(c.model, c.column) for c in found.undeclared_in("gold")] == [
        ("dim_sales_rep", "work_email")
    ]


def test_a_classification_outside_the_vocabulary_is_refused(manifest, built_columns) -> None:
    broken = copy.deepcopy(manifest)
    column = broken["nodes"]["model.engagement_lake.dim_customer"]["columns"]["email"]
    column["config"]["meta"]["classification"] = "confidential"
    column.get("meta", {})["classification"] = "confidential"
    with pytest.raises(LineageError, match=r"dim_customer\.email: classification 'confidential'"):
        compute_lineage(broken, built_columns)


def test_the_privacy_doc_lists_the_current_columns(manifest) -> None:
    text = DOC_PATH.read_text()
    assert render_doc(text, manifest) == text, (
        "docs/privacy.md is out of date: run python -m engagement_lake.lineage --write-doc"
    )
    for table, cols in gold_classifications(manifest).items():
        for column, (kind, _) in cols.items():
            if kind in SENSITIVE:
                assert f"| {table} | {column} | {kind} |" in text


# ----------------------------------------------------------------------------- the export


def _bronze_personal_values(lake) -> tuple[set[str], set[str]]:
    """Every personal value of bronze (as sent, trimmed, lower-cased) and the free-text columns."""
    values: set[str] = set()
    data = lake.cfg.data_dir.resolve()
    with duckdb.connect() as con:
        for contract in load_contracts().values():
            columns = [c.name for c in contract.columns if c.classification == PERSONAL]
            files = list((data / "bronze" / contract.system / contract.table).glob("*/*.parquet"))
            if not columns or not files:
                continue
            glob = f"{data}/{contract.bronze_glob}"
            for column in columns:
                values.update(
                    str(v)
                    for (v,) in con.execute(
                        f"select distinct cast({column} as varchar) from read_parquet('{glob}', "
                        f"union_by_name = true) where {column} is not null"
                    ).fetchall()
                )
    variants = {w for v in values for w in (v, v.strip(), v.lower(), v.strip().lower()) if w}
    return variants, values


COINCIDENTAL_WORDS = 3
"""Distinct one-word values a column may share with personal values by coincidence."""


def _unsalted_hashes(values: set[str]) -> set[str]:
    out: set[str] = set()
    for value in values:
        raw = value.encode()
        for algorithm in (hashlib.md5, hashlib.sha1, hashlib.sha256):
            digest = algorithm(raw).hexdigest()
            out.update((digest, digest[:16]))
    return out


@pytest.fixture(scope="module")
def exported(lake) -> dict[str, Path]:
    return lake.export.files


@pytest.fixture(scope="module")
def forbidden(lake, manifest) -> set[str]:
    """Bronze personal values, their staged forms, and every unsalted hash of them."""
    personal, _ = _bronze_personal_values(lake)
    # the staged, standardised forms too (lower-case e-mails, E.164 phones …)
    with lake.connect() as con:
        for (schema, table), cols in warehouse_columns(lake.cfg.warehouse).items():
            if schema != "staging":
                continue
            node = manifest["nodes"].get(f"model.engagement_lake.{table}")
            for column in cols:
                meta = ((node or {}).get("columns", {}).get(column) or {}).get("config") or {}
                if (meta.get("meta") or {}).get("classification") == PERSONAL:
                    personal.update(
                        str(v)
                        for (v,) in con.execute(
                            f'select distinct cast("{column}" as varchar) from staging."{table}" '
                            f'where "{column}" is not null'
                        ).fetchall()
                    )
    personal = {v for v in personal if len(v) >= 3}  # 'M', 'NY' … are not personal on their own
    return personal | _unsalted_hashes(personal)


def _scan(files: dict[str, Path], forbidden: set[str]) -> tuple[int, list[str]]:
    """Every text column of the exported files: (columns scanned, leaks found)."""
    scanned, leaks = 0, []
    with duckdb.connect() as con:
        for table, path in sorted(files.items()):
            schema = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
            for column, data_type, *_ in schema:
                if data_type != "VARCHAR":
                    continue
                scanned += 1
                found = {
                    v
                    for (v,) in con.execute(
                        f"select distinct \"{column}\" from read_parquet('{path}') "
                        f'where "{column}" is not null'
                    ).fetchall()
                }
                hits = found & forbidden
                # a lone word ('May', 'West', 'Price') is also somebody's name: a few such
                # coincidences are vocabulary; an e-mail, a phone, a full name, an address, a
                # hash, or many names, is a leak
                distinctive = {h for h in hits if re.search(r"[@\d\s]", h)}
                if distinctive or len(hits) > COINCIDENTAL_WORDS:
                    leaks.append(f"{table}.{column}")
    return scanned, leaks


def test_no_personal_value_or_unsalted_hash_of_one_is_exported(exported, forbidden) -> None:
    assert len(forbidden) > 10_000
    scanned, leaks = _scan(exported, forbidden)
    assert scanned > 100
    assert leaks == []


def test_the_leak_scan_finds_raw_and_unsalted_md5_exports(lake, forbidden, tmp_path: Path) -> None:
    """The scan itself must be able to fail: on a raw export, and on the old md5 masking."""
    cfg = RunConfig(tmp_path / "data", lake.cfg.warehouse, target_dir=lake.cfg.target_dir)
    raw = export_gold(cfg, include_personal=True).files
    picked = {t: raw[t] for t in ("dim_customer", "dim_sales_rep", "fct_sales_opportunities")}
    _, leaks = _scan(picked, forbidden)
    assert {"dim_customer.email", "dim_customer.full_name", "dim_sales_rep.work_email"} <= set(
        leaks
    )
    md5_masked = tmp_path / "md5.parquet"
    with lake.connect() as con:
        con.execute(
            "copy (select left(md5(email), 16) as email, md5(phone) as phone "
            f"from gold.dim_customer) to '{md5_masked}'"
        )
    assert _scan({"dim_customer": md5_masked}, forbidden)[1] == [
        "dim_customer.email",
        "dim_customer.phone",
    ]


def test_free_text_keeps_no_personal_name_or_email(lake, exported, manifest) -> None:
    _, raw = _bronze_personal_values(lake)
    emails = {v.strip().lower() for v in raw if "@" in v and not v.startswith("@")}
    words = {w.lower() for v in raw if "@" not in v for w in re.findall(r"[^\W\d_]{2,}", v)}
    assert len(emails) > 100 and len(words) > 500
    checked, leaks = 0, []
    classes = gold_classifications(manifest)
    with duckdb.connect() as con:
        for table, cols in classes.items():
            for column, (kind, _) in cols.items():
                if kind != PERSONAL_TEXT:
                    continue
                texts = [
                    v
                    for (v,) in con.execute(
                        f"select distinct \"{column}\" from read_parquet('{exported[table]}') "
                        f'where "{column}" is not null'
                    ).fetchall()
                ]
                checked += len(texts)
                for text in texts:
                    lowered = text.lower()
                    tokens = {t.lower() for t in re.findall(r"[^\W\d_]+", text)}
                    if tokens & words or any(e in lowered for e in emails):
                        leaks.append(f"{table}.{column}: {text!r}")
    assert checked > 100
    assert leaks[:5] == []


def test_opportunity_names_no_longer_start_with_the_customers_name(lake, exported) -> None:
    with lake.connect() as con:
        raw = con.execute("select opportunity_name from gold.fct_sales_opportunities").fetchall()
    masked = duckdb.sql(
        f"select opportunity_name from read_parquet('{exported['fct_sales_opportunities']}')"
    ).fetchall()
    assert len(raw) == len(masked) > 0
    assert sum(name.startswith("[name] - ") for (name,) in masked if name) > len(masked) / 2


def test_pseudonyms_keep_distinct_counts_and_agree_across_tables(lake, exported, manifest) -> None:
    classes = gold_classifications(manifest)
    mapping: dict[str, dict[str, str]] = {}
    with lake.connect() as con:
        for table, cols in classes.items():
            key = next(iter(cols))  # the first column of every gold table is its key
            for column, (kind, data_type) in cols.items():
                if kind != PERSONAL or not data_type.startswith("varchar"):
                    continue
                pairs = con.execute(
                    f'select g."{column}", e."{column}" from gold."{table}" as g '
                    f"join read_parquet('{exported[table]}') as e using (\"{key}\") "
                    f'where g."{column}" is not null'
                ).fetchall()
                assert pairs, (table, column)
                raw_distinct = {r for r, _ in pairs}
                masked_distinct = {m for _, m in pairs}
                assert len(raw_distinct) == len(masked_distinct), (table, column)
                for raw, masked in pairs:
                    assert re.fullmatch(r"[0-9a-f]{32}", masked), (table, column, masked)
                    assert mapping.setdefault(column, {}).setdefault(raw, masked) == masked
    # one raw value, one pseudonym, in every table: e-mails of dim_customer and the 360 mart
    assert len(mapping["email"]) > 100
    key = os.environ[KEY_ENV].encode()
    sample = next(iter(mapping["email"]))
    assert (
        mapping["email"][sample] == hmac.new(key, sample.encode(), hashlib.sha256).hexdigest()[:32]
    )


def test_birth_dates_keep_only_the_year(lake, exported) -> None:
    with lake.connect() as con:
        rows = con.execute(
            "select year(g.birth_date), e.birth_date from gold.dim_customer as g "
            f"join read_parquet('{exported['dim_customer']}') as e using (customer_key) "
            "where g.birth_date is not null"
        ).fetchall()
    assert len(rows) > 100
    assert all(
        masked.year == year and (masked.month, masked.day) == (1, 1) for year, masked in rows
    )


def test_include_personal_is_an_explicit_opt_in(lake, tmp_path: Path) -> None:
    cfg = RunConfig(tmp_path / "data", lake.cfg.warehouse, target_dir=lake.cfg.target_dir)
    result = export_gold(cfg, include_personal=True)
    assert all(cols == [] for cols in result.masked.values())
    path = result.files["dim_customer"]
    raw = duckdb.sql(
        f"select count(*) from read_parquet('{path}') where email like '%@%'"
    ).fetchone()[0]
    assert raw > 0


def test_export_command_names_a_bad_key_and_warns_on_the_opt_in(
    lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from engagement_lake.cli import app

    runner = CliRunner()
    args = [
        "export",
        "--data-dir",
        str(tmp_path / "data"),
        "--warehouse",
        str(lake.cfg.warehouse),
        "--target-dir",
        str(lake.cfg.target_dir),
    ]
    with monkeypatch.context() as patch:
        patch.setenv(KEY_ENV, "short")
        refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {KEY_ENV} is 5 characters")
    raw = runner.invoke(app, [*args, "--include-personal"])
    assert raw.exit_code == 0, raw.output
    assert "warning: personal data exported unmasked" in raw.output
    assert "personal columns masked" not in raw.output
