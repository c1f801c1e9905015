{#
    The daily incremental build. `engagement-lake build` compares bronze's load_date=
    partitions with those the last successful build of the warehouse read
    (engagement_lake.increments) and passes the partitions that are new in the environment
    variable ENGAGEMENT_LAKE_LOAD_DATES ('2026-07-01,2026-07-02'); with a rewritten, shrunk or
    removed partition, or no record of the last build, it runs --full-refresh instead. Not a
    dbt var: dbt parses the whole project again whenever its vars change, and this macro reads
    the variable only when a model runs (is_incremental() is false while dbt parses), so the
    daily build keeps dbt's partial parsing.

    incremental_load_dates()          the load dates an incremental run reads, none for "all"
    load_date_filter(expr)            predicate: a bronze load_date is one of them
    in_changed_partitions(file_expr)  predicate: a staging row's _source_file lies in one of them

    The strategy is chosen once, for every model, in dbt_project.yml from target.type:
    delete+insert by unique_key on DuckDB; on Spark insert_overwrite, which rewrites the
    partitions (or, unpartitioned, the table) holding the keys a run brings
    (macros/spark/insert_overwrite.sql). Both replace exactly the keys the new rows carry.

    Outside an incremental run (the first build, --full-refresh, a view) the filters are `true`,
    so the same SQL builds the whole table. An incremental run without the variable (dbt by
    hand) reads every partition: slower, never wrong.
#}


{% macro incremental_load_dates() %}
    {%- if not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set dates = env_var('ENGAGEMENT_LAKE_LOAD_DATES', 'every') -%}
    {%- if dates == 'every' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(dates.split(',') | map('trim') | reject('equalto', '') | list) }}
{% endmacro %}

{#- `expr` (a date) is one of the incremental run's load dates; `true` when every date counts. -#}
{% macro load_date_filter(expr) -%}
    {%- set dates = incremental_load_dates() -%}
    {%- if dates is none -%} true
    {%- elif dates | length == 0 -%} false
    {%- else -%}
        {{ expr }} in ({%- for d in dates -%}cast('{{ d }}' as date){{ ', ' if not loop.last }}{%- endfor -%})
    {%- endif -%}
{%- endmacro %}


{#- A staging row came from a partition the incremental run reads: its _source_file path
    (bronze/<system>/<table>/load_date=YYYY-MM-DD/part-*.parquet) names the load date. -#}
{% macro in_changed_partitions(file_expr) -%}
    {{ load_date_filter("try_cast(regexp_extract(" ~ file_expr ~ ", 'load_date=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) as date)") }}
{%- endmacro %}
