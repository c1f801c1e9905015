{#
    Survivorship, written once: the attribute groups of seeds/mdm/survivorship_rules.csv and the
    ranking that picks each group's winning source record. customer_golden applies it to the
    current records; customer_history applies it to the records as they stood at each change.

    survivorship_rules()      [{group, attributes, rule, priority}], ordered by group
    survivor_order(rule)      the ORDER BY list that ranks a customer's competing records (first
                              row wins): the group's rule, then the source priority, then the
                              newest updated_at, then source_system and source_id
#}
{% macro survivorship_rules() -%}
    {%- set rules = [] -%}
    {%- for row in seed_rows('survivorship_rules', 'attribute_group') -%}
        {%- do rules.append({
            'group': row['attribute_group'],
            'attributes': row['attributes'].split('|'),
            'rule': row['rule'],
            'priority': row['source_priority'].split('|'),
        }) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}


{% macro survivor_order(r) -%}
    {%- if r.rule == 'most_recent' %}
    updated_at desc,
    {%- elif r.rule == 'most_complete' %}
    {%- for attribute in r.attributes %}
    length(coalesce(cast({{ attribute }} as {{ dbt.type_string() }}), '')) desc,
    {%- endfor %}
    {%- endif %}
    case source_system
        {%- for source in r.priority %}
        when '{{ source }}' then {{ loop.index }}
        {%- endfor %}
        else {{ r.priority | length + 1 }}
    end,
    updated_at desc,
    source_system,
    source_id
{%- endmacro %}
