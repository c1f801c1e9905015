{#
    Every per-column rule of a model in one test: its keys are unique, the required columns are
    not null, the listed columns hold only their allowed values and the foreign keys find their
    parent row. It checks what `unique`, `unique_combination`, `not_null`, `accepted_values` and
    `relationships` on each column would, in one test node instead of one per column and rule:
    a build pays dbt's cost per test node (about 25 ms on DuckDB, seconds on Spark), and gold
    alone declared over 200 such rules.

    Arguments (each optional):
      unique:          keys that must not repeat: a column name (its nulls left out, as dbt's
                       `unique`) or a list of columns (a compound key, as `unique_combination`);
      not_null:        columns that must hold a value;
      accepted_values: {column: [values]}: a non-null value outside the list breaks the rule
                       (compared as text, so numbers and booleans are written as they print);
      references:      [{column, to, field}]: a non-null `column` must equal `field` of some
                       row of the model or seed named `to` (dbt's `relationships`).

    A failing row names the rule, the column and how many rows break it (for a key, the number
    of key values that repeat). dbt's failure count is the number of broken rules.
    engagement_lake.manifest_tests reads the same arguments back for the Python checks and the
    serving file's keys, so a rule is declared once.
#}
{% test column_rules(model, unique=[], not_null=[], accepted_values={}, references=[]) %}


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

broken as (

    {%- set branches = [] %}
    {%- for column in not_null %}
        {%- do branches.append("select 'not_null' as rule, '" ~ column ~ "' as column_name, not_null__" ~ column ~ " as failing_rows from counted") %}
    {%- endfor %}
    {%- for column in accepted_values %}
        {%- do branches.append("select 'accepted_values' as rule, '" ~ column ~ "' as column_name, accepted_values__" ~ column ~ " as failing_rows from counted") %}
    {%- endfor %}
    {%- for key in unique %}
        {%- set columns = key if key is string else key | join(', ') %}
        {%- set filter = " where " ~ key ~ " is not null" if key is string else "" %}
        {%- do branches.append(
            "select 'unique' as rule, '" ~ columns ~ "' as column_name, count(*) as failing_rows from ("
            ~ " select " ~ columns ~ " from " ~ model ~ filter ~ " group by " ~ columns
            ~ " having count(*) > 1 ) as repeated") %}
    {%- endfor %}
    {%- for reference in references %}
        {%- set parent = ref(reference.to) %}
        {%- do branches.append(
            "select 'relationships to " ~ reference.to ~ "." ~ reference.field ~ "' as rule, '"
            ~ reference.column ~ "' as column_name, count(*) as failing_rows from " ~ model ~ " as child"
            ~ " where child." ~ reference.column ~ " is not null and not exists ("
            ~ " select 1 from " ~ parent ~ " as parent where parent." ~ reference.field
            ~ " = child." ~ reference.column ~ ")") %}
    {%- endfor %}
    {%- if not branches %}
        {%- do branches.append("select 'none' as rule, '' as column_name, 0 as failing_rows from counted") %}
    {%- endif %}
    {{ branches | join('\n    union all\n    ') }}

)

select rule, column_name, failing_rows
from broken
where failing_rows > 0

{% endtest %}
