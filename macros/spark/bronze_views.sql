{#
    Bronze on Spark: one view per source table over its folder of load_date= Parquet partitions,
    read in place, as DuckDB's sources read them with read_parquet (dbt-duckdb's
    external_location, which dbt-spark ignores). The partition folder becomes the load_date
    column and each row's position in its file becomes file_row_number, so the staging macros
    see the same columns on both engines; spark.sql.parquet.mergeSchema (profiles.yml) unions
    the files' columns by name, as union_by_name does.

    Run as an on-run-start hook: before any model compiles, every view points at the folder the
    build reads (ENGAGEMENT_LAKE_DATA_DIR). `engagement-lake build` passes var('bronze_tables'),
    the system.table names its preflight found files for; a table without files gets no view,
    and staging builds it empty, as on DuckDB (spark__bronze_file_columns). Without the var (dbt
    run by hand) every table gets a view, and Spark names the folder of any that is missing.
    The hook also copies the erasure register into the Spark folder (spark__copy_erasure_register
    in macros/staging/erasure.sql), so that staging drops erased people's rows here too.
#}
{% macro bronze_views() %}
    {{ return(adapter.dispatch('bronze_views', 'engagement_lake')()) }}
{% endmacro %}

{% macro default__bronze_views() %}
    {{ return('') }}
{% endmacro %}

{% macro spark__bronze_views() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set statements = [] -%}
    {%- set systems = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') if node.package_name == project_name -%}
        {%- set folder = env_var('ENGAGEMENT_LAKE_DATA_DIR', 'data') ~ '/bronze/' ~ node.source_name ~ '/' ~ node.name -%}
        {%- if node.schema not in systems -%}
            {%- do systems.append(node.schema) -%}
            {%- do statements.append('create database if not exists ' ~ node.schema) -%}
        {%- endif -%}
        {%- set present = var('bronze_tables', none) -%}
        {%- if present is none or (node.source_name ~ '.' ~ node.name) in present -%}
            {%- do statements.append(
                'create or replace view ' ~ node.schema ~ '.' ~ node.identifier ~ ' as select *, '
                ~ '_metadata.row_index as file_row_number from parquet.`' ~ folder ~ '`') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {#- and the erasure register, which staging reads (macros/staging/erasure.sql) -#}
    {%- do spark__copy_erasure_register() -%}
    {{ return('') }}
{% endmacro %}

