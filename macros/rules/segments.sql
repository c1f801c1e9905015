{#
    The segmentation rules of seeds/marts/segment_rules.csv, read at compile time (seed_rows), for
    int_customer_segments to write as CASE branches. A model using them declares
    `-- depends_on: {{ ref('segment_rules') }}`.

    segment_rules_by_id()              rule_id -> {segmentation, segment, rule_order, conditions}
                                        (conditions: the seed's rows of that rule)
    segment_rule_holds(conditions)      SQL true when every condition holds: the metric (a column
                                        of int_customer_metrics, as a double) is not null and
                                        within min_value and max_value (an empty bound is none)
#}
{% macro segment_rules_by_id() -%}
    {%- set rules = {} -%}
    {%- for row in seed_rows('segment_rules') -%}
        {%- if row['rule_id'] not in rules -%}
            {%- do rules.update({row['rule_id']: {'segmentation': row['segmentation'], 'segment': row['segment'], 'rule_order': row['rule_order'], 'conditions': []}}) -%}
        {%- endif -%}
        {%- do rules[row['rule_id']]['conditions'].append(row) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}

{% macro segment_rule_holds(conditions) -%}
    {%- for condition in conditions -%}
        {%- set value = 'cast(' ~ condition['metric'] ~ ' as double)' -%}
        ({{ value }} is not null
        {%- if condition['min_value'] is not none %} and {{ value }} >= cast('{{ condition['min_value'] }}' as double){% endif %}
        {%- if condition['max_value'] is not none %} and {{ value }} <= cast('{{ condition['max_value'] }}' as double){% endif %})
        {{- ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
