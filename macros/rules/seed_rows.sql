{#
    Rules as data: the rows of a seed, read at compile time, as a list of dicts (column -> value),
    so a model can generate SQL from a table of rules (see int_customer_next_best_action).

    The seed's table is found from the project graph, not through ref(): inside a dbt unit test
    ref() points at the test's fixture CTE, which cannot be queried at compile time, while the
    rules under test are the seed as built (a unit test has no graph either: the seed is then
    looked up in the seeds' schema). A model using this macro must also declare the
    dependency with a `-- depends_on: {{ ref('<seed>') }}` line, so the seed is built first.

    Before the seed is built (dbt compile or docs on an empty warehouse) the list is empty; a
    run, build or test then stops with an error instead of silently applying no rule.
#}
{% macro seed_rows(seed_name, order_by=none) -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- set nodes = graph.get('nodes') or {} -%}
        {%- set node = nodes.get('seed.' ~ project_name ~ '.' ~ seed_name) -%}
        {%- if node is not none -%}
            {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- elif nodes -%}
            {{ exceptions.raise_compiler_error('seed_rows: no seed named ' ~ seed_name) }}
        {%- else -%}
            {#- a unit test compiles without the project graph: seeds live in the schema set in
                dbt_project.yml (seeds: +schema: silver) -#}
            {%- set relation = adapter.get_relation(database=target.database, schema=generate_schema_name('silver', none), identifier=seed_name) -%}
        {%- endif -%}
        {%- if relation is none -%}
            {%- if flags.WHICH in ['run', 'build', 'test'] -%}
                {{ exceptions.raise_compiler_error('seed_rows: seed ' ~ seed_name ~ ' is not built; run dbt seed first') }}
            {%- endif -%}
        {%- else -%}
            {%- set table = run_query('select * from ' ~ relation.include(database=False) ~ (' order by ' ~ order_by if order_by else '')) -%}
            {%- for row in table.rows -%}
                {%- set item = {} -%}
                {%- for column in table.column_names -%}
                    {%- do item.update({column: row[column]}) -%}
                {%- endfor -%}
                {%- do rows.append(item) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(rows) }}
{%- endmacro %}

{#
    The parameters of a rules seed in long form (rule, parameter, value) as a dict of dicts:
    rule_parameters('next_best_action_thresholds', 'action') -> {'sales_follow_up': {'min_quiet_days': 14}, ...}.
    Values are rendered as SQL literals by the caller ({{ p.min_quiet_days }}).
#}
{% macro rule_parameters(seed_name, rule_column) -%}
    {%- set params = {} -%}
    {%- for row in seed_rows(seed_name) -%}
        {%- if row[rule_column] not in params -%}
            {%- do params.update({row[rule_column]: {}}) -%}
        {%- endif -%}
        {%- do params[row[rule_column]].update({row['parameter']: row['value']}) -%}
    {%- endfor -%}
    {{ return(params) }}
{%- endmacro %}

{#
    One threshold from rule_parameters(): params[rule][parameter]. At parse time (no seed read)
    it is 0, so the model still parses; at run time a missing threshold is an error naming it.
#}
{% macro rule_value(params, rule, parameter) -%}
    {%- if not execute or (params | length == 0 and flags.WHICH not in ['run', 'build', 'test']) -%}
        {{ return(0) }}
    {%- endif -%}
    {%- if rule not in params or parameter not in params[rule] -%}
        {{ exceptions.raise_compiler_error('rules seed has no value for ' ~ rule ~ '.' ~ parameter) }}
    {%- endif -%}
    {{ return(params[rule][parameter]) }}
{%- endmacro %}
