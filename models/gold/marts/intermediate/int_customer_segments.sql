-- depends_on: {{ ref('segment_rules') }}
-- One row per golden customer: lifecycle stage and behavioural segment from the rules in
-- seeds/marts/segment_rules.csv. A rule holds when all its conditions hold; a segment is
-- assigned by the holding rule with the lowest rule_order (then rule_id). No behavioural rule →
-- var default_behavioural_segment.
--
-- The rules are read when the model compiles (seed_rows) and written as one CASE per
-- segmentation, each rule a branch in winning order: every customer is scored in one pass over
-- its row, where matching customers against the rules as data joined each customer's every
-- metric with every condition (two million rows at scale 1) and ranked the rules that held.

{%- set segmentations = [
    ('lifecycle', 'lifecycle_stage', var('default_lifecycle_stage')),
    ('behavioural', 'behavioural_segment', var('default_behavioural_segment')),
] %}
{#- each segmentation's rules in winning order: rule_order, then rule_id #}
{%- set rules = segment_rules_by_id() %}
{%- set ordered = {} %}
{%- for segmentation, _, _ in segmentations %}
    {%- do ordered.update({segmentation: rules.items() | selectattr('1.segmentation', 'equalto', segmentation)
                                          | sort(attribute='0') | sort(attribute='1.rule_order') | list}) %}
{%- endfor %}

with

customer_metrics as (

    select * from {{ ref('int_customer_metrics') }}

),

matched as (

    select
        customer_key,
        customer_id,
        {%- for segmentation, _, _ in segmentations %}
        {%- if ordered[segmentation] %}
        case
            {%- for rule_id, rule in ordered[segmentation] %}
            when {{ segment_rule_holds(rule['conditions']) }} then '{{ rule_id }}'
            {%- endfor %}
        end as {{ segmentation }}_rule_id{{ ',' if not loop.last }}
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as {{ segmentation }}_rule_id{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from customer_metrics

)

select
    customer_key,
    customer_id,
    {%- for segmentation, column, default in segmentations %}
    case
        {%- for rule_id, rule in ordered[segmentation] %}
        when {{ segmentation }}_rule_id = '{{ rule_id }}' then '{{ rule['segment'] }}'
        {%- endfor %}
        when {{ segmentation }}_rule_id is null then '{{ default }}'
    end as {{ column }},
    {{ segmentation }}_rule_id{{ ',' if not loop.last }}
    {%- endfor %}
from matched
