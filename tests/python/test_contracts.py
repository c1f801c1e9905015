"""Contract loading: every bronze table of the ten source systems has a valid contract, and each
kind of malformed contract fails with one line naming the file, the field and the problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from engagement_lake.config import SCHEMAS_DIR
from engagement_lake.contracts import (
    METADATA_COLUMNS,
    ContractError,
    load_contracts,
    parse_contract,
)

# The source systems and their tables (the minimum set the project models).
MINIMUM_SET = {
    "shop": [
        "customers",
        "products",
        "orders",
        "order_items",
        "returns",
        "store_visits",
        "web_sessions",
    ],
    "crm": [
        "contacts",
        "leads",
        "opportunities",
        "opportunity_stage_history",
        "activities",
        "quotes",
        "sales_reps",
        "territories",
        "quotas",
        "commissions",
        "referrals",
    ],
    "support": ["requesters", "tickets", "ticket_messages", "call_transcripts", "surveys"],
    "marketing": ["subscribers", "campaigns", "email_events", "journey_events"],
    "reviews": ["product_reviews"],
    "fitmap": ["scans"],
    "loyalty": ["members", "points_ledger", "tier_changes"],
    "social": ["mentions"],
    "mlops": [
        "model_registry",
        "model_predictions",
        "feature_values",
        "experiments",
        "experiment_assignments",
        "experiment_events",
        "personalization_events",
        "recommendations_served",
        "recommendation_feedback",
        "next_best_actions",
        "nlp_sentiment",
    ],
    "finance": ["customer_profitability"],
}

CUSTOMERS = SCHEMAS_DIR / "shop" / "customers.odcs.yaml"


@pytest.fixture(scope="module")
def contracts():
    return load_contracts()


def test_every_minimum_table_has_a_contract(contracts):
    expected = {f"{system}.{table}" for system, tables in MINIMUM_SET.items() for table in tables}
    assert expected <= set(contracts), sorted(expected - set(contracts))
    assert len(expected) == 45


def test_contracts_are_typed(contracts):
    orders = contracts["shop.orders"]
    assert orders.primary_key == ("order_id",)
    customer_id = orders.column("customer_id")
    assert customer_id.required and customer_id.reference is not None
    assert (customer_id.reference.table_fqn, customer_id.reference.column) == (
        "shop.customers",
        "customer_id",
    )
    assert customer_id.reference.required is True
    assert orders.column("channel").allowed_values == ("web", "store", "app", "phone")
    assert orders.column("total_amount").maximum == 25000
    assert orders.column("order_ts").target_name == "ordered_at"
    assert [c.name for c in orders.all_columns[-3:]] == [c.name for c in METADATA_COLUMNS]
    assert any(rule.kind == "sql" for rule in orders.quality)


def test_personal_data_is_classified(contracts):
    customers = contracts["shop.customers"]
    personal = {c.name for c in customers.columns if c.is_personal}
    assert {
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "address_line1",
        "postal_code",
    } <= personal
    assert not customers.column("loyalty_tier").is_personal
    assert customers.column("email").standardize == "email"
    assert customers.column("birth_date").arrives_as_text
    # Every identity source classifies its e-mail and names as personal.
    for fqn in (
        "crm.contacts",
        "crm.leads",
        "support.requesters",
        "marketing.subscribers",
        "loyalty.members",
    ):
        assert any(c.is_personal and c.standardize == "email" for c in contracts[fqn].columns), fqn


def test_every_contract_has_a_primary_key_and_known_event_column(contracts):
    for contract in contracts.values():
        assert contract.primary_key, contract.fqn
        assert contract.grain.startswith("One row per"), contract.fqn
        if contract.event_timestamp_column:
            assert contract.column(contract.event_timestamp_column).logical_type in (
                "date",
                "timestamp",
            )


def _mutate(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text, f"fixture text missing {old!r}"
    return text.replace(old, new, count)


BASE = CUSTOMERS.read_text()

MALFORMED = {
    "unknown logical type": (
        _mutate(BASE, "logicalType: string", "logicalType: strng"),
        "schema[0](customers).properties[0](customer_id).logicalType: 'strng' is not one of",
    ),
    "misspelled key": (
        _mutate(BASE, "    required: true", "    requird: true"),
        "schema[0](customers).properties[0](customer_id): "
        "unknown key(s) ('requird' was unexpected)",
    ),
    "invalid yaml": (_mutate(BASE, "schema:", "schema: ["), "invalid YAML"),
    "missing apiVersion": (
        _mutate(BASE, "apiVersion: v3.1.0\n", ""),
        "(document): 'apiVersion' is a required property",
    ),
    "unsupported apiVersion": (
        _mutate(BASE, "apiVersion: v3.1.0", "apiVersion: v2.2.2"),
        "apiVersion: 'v2.2.2' is not supported",
    ),
    "bad severity": (
        _mutate(BASE, "severity: error", "severity: fatal"),
        "severity: 'fatal' is not one of error, warning, info",
    ),
    "unparsable physical type": (
        _mutate(BASE, "physicalType: VARCHAR", "physicalType: VARCHR("),
        "properties[0](customer_id).physicalType: 'VARCHR(' is not a DuckDB type",
    ),
    "physical type cannot hold logical type": (
        _mutate(BASE, "physicalType: VARCHAR", "physicalType: BOOLEAN"),
        "properties[0](customer_id).physicalType: 'BOOLEAN' cannot hold logical type 'string'",
    ),
    "unknown custom property": (
        _mutate(BASE, "property: standardize", "property: standardise"),
        "unknown custom property 'standardise'",
    ),
    "unknown standardizer": (
        _mutate(BASE, "value: email", "value: mail"),
        "standardize: 'mail' is not one of",
    ),
    "name does not match file": (
        _mutate(BASE, "name: shop.customers", "name: shop.clients"),
        "name: 'shop.clients' must be shop.customers",
    ),
    "no primary key": (
        _mutate(_mutate(BASE, "    primaryKey: true\n", ""), "    primaryKeyPosition: 1\n", ""),
        "properties: no column is marked primaryKey",
    ),
    "bad reference form": (
        _mutate(
            SCHEMAS_DIR.joinpath("shop/orders.odcs.yaml").read_text(),
            "to: shop.customers.customer_id",
            "to: customers",
        ),
        None,
    ),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_contract_fails_with_one_line(kind, tmp_path):
    text, expected = MALFORMED[kind]
    target = "orders" if kind == "bad reference form" else "customers"
    path = tmp_path / "shop" / f"{target}.odcs.yaml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(ContractError) as info:
        parse_contract(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    if expected is not None:
        assert expected in message, message
    else:
        assert "relationships" in message


def test_reference_to_missing_column_is_rejected(tmp_path):
    for system in ("shop",):
        (tmp_path / system).mkdir()
    for name in ("customers", "orders"):
        text = (SCHEMAS_DIR / "shop" / f"{name}.odcs.yaml").read_text()
        if name == "orders":
            text = text.replace("to: shop.customers.customer_id", "to: shop.customers.client_id")
        (tmp_path / "shop" / f"{name}.odcs.yaml").write_text(text)
    with pytest.raises(
        ContractError,
        match=r"orders.odcs.yaml: .*relationships\[0\].to: "
        r"shop.customers has no column 'client_id'",
    ):
        load_contracts(tmp_path)


def test_a_typo_the_pydantic_model_accepts_is_refused(tmp_path):
    """Why the JSON Schema layer exists: the package's pydantic model ignores a misspelled key,
    and the contract loader must not."""
    from open_data_contract_standard.model import OpenDataContractStandard

    text = MALFORMED["misspelled key"][0]
    OpenDataContractStandard.model_validate(yaml.safe_load(text))
    path = tmp_path / "shop" / "customers.odcs.yaml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(ContractError, match=re.escape(MALFORMED["misspelled key"][1])):
        parse_contract(path)


def test_empty_folder_is_an_error(tmp_path: Path):
    with pytest.raises(ContractError, match="no contracts found"):
        load_contracts(tmp_path)
