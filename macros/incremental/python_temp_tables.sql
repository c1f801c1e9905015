{#
    The intermediate table of an incremental Python model on DuckDB, dropped after the merge.

    dbt-duckdb 1.11's incremental materialization stages a model's new rows in a relation from
    duckdb__dispatch_temporary_relation, marked temporary, and drops only relations not so
    marked, since a SQL model's temporary table vanishes with its connection. A Python model,
    though, writes its rows from another cursor (py_write_table), where a temporary table would
    be invisible, so it creates an ordinary table (main.<model>__dbt_tmp<timestamp>) that
    nothing dropped: every incremental build left one per incremental Python model
    (customer_id_ledger, customer_match_model, int_customer_full_names) in the warehouse.

    This override is dbt-duckdb's macro (for a local file; the project does not run on
    MotherDuck), except that a Python model's relation is not marked temporary, so the
    materialization drops it once the merge is committed. drop_leftover_temp_tables, an
    on-run-start hook, drops any such table that a build killed between the two left behind,
    and those earlier builds left.
#}
{% macro duckdb__dispatch_temporary_relation(target_relation, batch_id='') %}
    {%- do return({
        'relation': make_temp_relation(target_relation),
        'temporary': model.language != 'python'
    }) -%}
{% endmacro %}

{% macro drop_leftover_temp_tables() %}
    {{ return(adapter.dispatch('drop_leftover_temp_tables', 'engagement_lake')()) }}
{% endmacro %}

{% macro default__drop_leftover_temp_tables() %}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__drop_leftover_temp_tables() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set leftovers = run_query(
        "select table_name from duckdb_tables() where database_name = current_database() "
        ~ "and schema_name = 'main' and regexp_matches(table_name, '__dbt_tmp[0-9]+$') "
        ~ "order by table_name") -%}
    {%- for row in leftovers -%}
        {%- do run_query('drop table if exists main.' ~ adapter.quote(row[0])) -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
