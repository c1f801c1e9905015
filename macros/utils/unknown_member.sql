{#
    Every dimension has one explicit "unknown" member, and facts point at it when a key is
    missing or not found, so an inner join from a fact to a dimension never drops rows and BI
    tools show "Unknown" instead of a blank. Its key and its text are the vars unknown_member_key
    and unknown_member_label (dbt_project.yml). unknown_member_date is the sentinel date no source
    date may take; it must equal engagement_lake.config.UNKNOWN_MEMBER_DATE, which a Python test
    checks (dim_date's own unknown member has no date).
#}
{% macro unknown_member_key() -%}
    '{{ var("unknown_member_key") }}'
{%- endmacro %}

{#- The unknown member's date as a SQL literal of the given type (date or timestamp). -#}
{% macro unknown_member_date(data_type='date') -%}
    cast('{{ var("unknown_member_date") }}' as {{ data_type }})
{%- endmacro %}

{#
    The unknown-member row of a dimension, built from the model's declared contract (the
    `columns:` with `data_type` in its YAML), in declared order, each value cast to its declared
    type. Defaults: every `*_key` column is the unknown member key, every text column (ids, codes
    and labels alike) is var('unknown_member_label'), the one spelling of "unknown" in gold, every
    boolean is false, every other column (numbers, dates) is null. `values` overrides a column
    with a literal (a string is quoted, a number or boolean is written as is), e.g.
        {{ unknown_member_row({'source_record_count': 0}) }}
    A value naming no declared column is an error, so a renamed column cannot silently fall back.
    The row is in declared order, so the known rows it is unioned with must select the columns in
    the YAML's order too (union all is positional; the contract then checks names and types).
#}
{% macro unknown_member_row(values={}) -%}
    {%- set columns = model.columns.values() | list -%}
    {%- if execute and columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "unknown_member_row: " ~ model.name ~ " declares no columns in its YAML") }}
    {%- endif -%}
    {%- set declared = columns | map(attribute='name') | list -%}
    {%- for name in values -%}
        {%- if execute and name not in declared -%}
            {{ exceptions.raise_compiler_error(
                "unknown_member_row: " ~ model.name ~ " declares no column " ~ name) }}
        {%- endif -%}
    {%- endfor -%}
    select
    {%- for column in columns %}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error(
                "unknown_member_row: " ~ model.name ~ "." ~ column.name ~ " has no data_type") }}
        {%- endif -%}
        {%- if column.name in values -%}
            {%- set value = values[column.name] -%}
            {%- if value is none -%}
                {%- set literal = 'null' -%}
            {%- elif value is boolean -%}
                {%- set literal = 'true' if value else 'false' -%}
            {%- elif value is number -%}
                {%- set literal = value | string -%}
            {%- else -%}
                {%- set literal = "'" ~ (value | string | replace("'", "''")) ~ "'" -%}
            {%- endif -%}
        {%- elif column.name.endswith('_key') -%}
            {%- set literal = unknown_member_key() -%}
        {%- elif column.data_type | lower == 'boolean' -%}
            {%- set literal = 'false' -%}
        {%- elif (column.data_type | lower).split('(')[0] in ('varchar', 'text', 'string', 'char') -%}
            {%- set literal = "'" ~ (var('unknown_member_label') | replace("'", "''")) ~ "'" -%}
        {%- else -%}
            {%- set literal = 'null' -%}
        {%- endif %}
        cast({{ literal }} as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
