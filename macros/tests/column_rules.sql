{#
    The per-column rules of every model (or seed) of one YAML file, in one test: their keys are
    unique, the required columns are not null, the listed columns hold only their allowed values
    and the foreign keys find their parent row. It checks what `unique`, `unique_combination`,
    `not_null`, `accepted_values` and `relationships` on each column of each model would, in one
    test node instead of one per column and rule, or one per model: a build pays dbt's cost per
    test node (about 25 ms on DuckDB, seconds on Spark), and a test's SQL is cheap beside it.

    Declared once per YAML file, on the file's first model, with each model's rules under its
    name:

        models:
          <model or seed of this file>:
            unique:          keys that must not repeat: a column name (its nulls left out, as
                             dbt's `unique`) or a list of columns (a compound key, as
                             `unique_combination`);
            not_null:        columns that must hold a value;
            accepted_values: {column: [values]}: a non-null value outside the list breaks the
                             rule (compared as text, so numbers and booleans are written as they
                             print);
            references:      [{column, to, field}]: a non-null `column` must equal `field` of
                             some row of the model or seed named `to` (dbt's `relationships`).

    Every model named is a parent of the test (its `ref`), so the test runs once all of them are
    built. A failing row names the model, the rule, the column and how many rows break it (for a
    key, the number of key values that repeat). dbt's failure count is the number of broken
    rules. engagement_lake.manifest_tests reads the same arguments back for the Python checks
    and the serving file's keys, so a rule is declared once.
#}
{% test column_rules(model, models={}) %}

{%- set branches = [] %}
{%- set counts = [] %}
{%- set text_type = dbt.type_string() %}
{%- for name, rules in models.items() %}
    {%- set relation = ref(name) %}
    {%- set not_null = rules.get('not_null', []) %}
    {%- set accepted_values = rules.get('accepted_values', {}) %}
    {%- set counted = 'counted__' ~ loop.index %}
    {%- if not_null or accepted_values %}
        {%- set measures = [] %}
        {%- for column in not_null %}
            {%- do measures.append("count(case when " ~ column ~ " is null then 1 end) as not_null__" ~ column) %}
            {%- do branches.append("select '" ~ name ~ "' as model_name, 'not_null' as rule, '" ~ column ~ "' as column_name, not_null__" ~ column ~ " as failing_rows from " ~ counted) %}
        {%- endfor %}
        {%- for column, values in accepted_values.items() %}
            {%- set quoted = [] %}
            {%- for value in values %}
                {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") %}
            {%- endfor %}
            {%- do measures.append(
                "count(case when " ~ column ~ " is not null and cast(" ~ column ~ " as "
                ~ text_type ~ ") not in (" ~ quoted | join(', ') ~ ") then 1 end) as accepted_values__" ~ column) %}
            {%- do branches.append("select '" ~ name ~ "' as model_name, 'accepted_values' as rule, '" ~ column ~ "' as column_name, accepted_values__" ~ column ~ " as failing_rows from " ~ counted) %}
        {%- endfor %}
        {%- do counts.append(counted ~ " as (\n\n    select\n        " ~ measures | join(',\n        ') ~ "\n    from " ~ relation ~ "\n\n)") %}
    {%- endif %}
    {%- for key in rules.get('unique', []) %}
        {%- set columns = key if key is string else key | join(', ') %}
        {%- set filter = " where " ~ key ~ " is not null" if key is string else "" %}
        {%- do branches.append(
            "select '" ~ name ~ "' as model_name, 'unique' as rule, '" ~ columns ~ "' as column_name, count(*) as failing_rows from ("
            ~ " select " ~ columns ~ " from " ~ relation ~ filter ~ " group by " ~ columns
            ~ " having count(*) > 1 ) as repeated") %}
    {%- endfor %}
    {%- for reference in rules.get('references', []) %}
        {%- set parent = ref(reference.to) %}
        {%- do branches.append(
            "select '" ~ name ~ "' as model_name, 'relationships to " ~ reference.to ~ "." ~ reference.field ~ "' as rule, '"
            ~ reference.column ~ "' as column_name, count(*) as failing_rows from " ~ relation ~ " as child"
            ~ " where child." ~ reference.column ~ " is not null and not exists ("
            ~ " select 1 from " ~ parent ~ " as parent where parent." ~ reference.field
            ~ " = child." ~ reference.column ~ ")") %}
    {%- endfor %}
{%- endfor %}
{%- if not branches %}
    {%- do branches.append("select '' as model_name, 'none' as rule, '' as column_name, 0 as failing_rows") %}
{%- endif %}

with

{% for counted in counts -%}
{{ counted }},

{% endfor -%}
broken as (

    {{ branches | join('\n    union all\n    ') }}

)

select model_name, rule, column_name, failing_rows
from broken
where failing_rows > 0

{% endtest %}
