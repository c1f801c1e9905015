{#
    Every per-column rule of a model in one test: the key is unique, the required columns are
    not null, the listed columns hold only their allowed values. It is what `unique`,
    `not_null` and `accepted_values` on each column check, in one scan of the model instead of one
    query per column: the generated staging models carry one of these each (written by
    `engagement-lake schemas sync` from the contract), because a build pays dbt's cost per test
    node, and on Spark that cost is seconds.

    A failing row names the rule, the column and how many rows break it; the duplicate-key count
    is the number of key values that repeat.
#}
{% test column_rules(model, unique_key=[], not_null=[], accepted_values={}) %}

with

counted as (

    select
        {%- for column in not_null %}
        count(case when {{ column }} is null then 1 end) as not_null__{{ column }},
        {%- endfor %}
        {%- for column, values in accepted_values.items() %}
        count(case when {{ column }} is not null and cast({{ column }} as {{ dbt.type_string() }}) not in (
            {%- for value in values -%}
            '{{ value | string | replace("'", "''") }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        ) then 1 end) as accepted_values__{{ column }},
        {%- endfor %}
        count(*) as row_count
    from {{ model }}

),

{%- if unique_key %}

duplicate_keys as (

    select count(*) as key_values
    from (
        select {{ unique_key | join(', ') }}
        from {{ model }}
        group by {{ unique_key | join(', ') }}
        having count(*) > 1
    ) as repeated

),
{%- endif %}

broken as (

    {%- set branches = [] %}
    {%- for column in not_null %}
        {%- do branches.append("select 'not_null' as rule, '" ~ column ~ "' as column_name, not_null__" ~ column ~ " as failing_rows from counted") %}
    {%- endfor %}
    {%- for column in accepted_values %}
        {%- do branches.append("select 'accepted_values' as rule, '" ~ column ~ "' as column_name, accepted_values__" ~ column ~ " as failing_rows from counted") %}
    {%- endfor %}
    {%- if unique_key %}
        {%- do branches.append("select 'unique' as rule, '" ~ unique_key | join(', ') ~ "' as column_name, key_values as failing_rows from duplicate_keys") %}
    {%- endif %}
    {%- if not branches %}
        {%- do branches.append("select 'none' as rule, '' as column_name, 0 as failing_rows from counted") %}
    {%- endif %}
    {{ branches | join('\n    union all\n    ') }}

)

select rule, column_name, failing_rows
from broken
where failing_rows > 0

{% endtest %}
