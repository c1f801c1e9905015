{#
    A gold contract's `not_null` constraints, kept on every engine. DuckDB writes them into the
    table's DDL, so a null is refused while the model is built and this renders nothing. Spark's
    Parquet tables hold no constraints (dbt-spark skips them with a warning), so there this
    post-hook (every gold model, dbt_project.yml) counts the nulls of those columns in one scan
    after the write and fails the model, naming the columns, as DuckDB's insert would have. No
    `not_null` data test repeats the constraint.
#}
{% macro enforce_not_null_constraints() %}
    {{ return(adapter.dispatch('enforce_not_null_constraints', 'engagement_lake')()) }}
{% endmacro %}

{% macro default__enforce_not_null_constraints() %}{% endmacro %}

{% macro spark__enforce_not_null_constraints() %}
    {%- if not execute or not (model.config.get('contract') or {}).get('enforced') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- for constraint in column.get('constraints') or [] if constraint.type == 'not_null' -%}
            {%- do columns.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do assert_no_nulls(this, columns) -%}
{% endmacro %}


{#- Fails, naming each column and its null count, unless `columns` of `relation` hold no null
    (one scan). Also `dbt run-operation assert_no_nulls --args '{relation: …, columns: […]}'`. -#}
{% macro assert_no_nulls(relation, columns) %}
    {%- if columns -%}
        {%- set counts = [] -%}
        {%- for name in columns -%}
            {%- do counts.append('count(case when ' ~ name ~ ' is null then 1 end)') -%}
        {%- endfor -%}
        {%- set counted = run_query('select ' ~ counts | join(', ') ~ ' from ' ~ relation) -%}
        {%- set broken = [] -%}
        {%- for name in columns -%}
            {%- set nulls = counted.rows[0][loop.index0] -%}
            {%- if nulls > 0 -%}
                {%- do broken.append(name ~ ' (' ~ nulls ~ ' rows)') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if broken -%}
            {{ exceptions.raise_compiler_error(
                relation ~ ": null in a not_null column of the contract: " ~ broken | join(', ')) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
