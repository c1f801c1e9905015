-- One row per golden customer: lifecycle stage and behavioural segment from the rules in
-- seeds/marts/segment_rules.csv. A rule holds when all its conditions hold; a segment is
-- assigned by the holding rule with the lowest rule_order. No behavioural rule → var default_behavioural_segment.

{%- set metrics = ['days_since_last_order', 'days_since_signup', 'order_count', 'lifetime_revenue',
                   'average_order_value', 'clv_decile', 'churn_probability', 'promo_order_share',
                   'category_count', 'is_b2b', 'email_open_rate'] %}

with

customer_metrics as (

    select * from {{ ref('int_customer_metrics') }}

),

rules as (

    select * from {{ ref('segment_rules') }}

),

metrics_long as (

    {%- for metric in metrics %}
    select customer_key, '{{ metric }}' as metric, cast({{ metric }} as double) as metric_value
    from customer_metrics
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

rule_checks as (

    select
        metrics_long.customer_key,
        rules.segmentation,
        rules.segment,
        rules.rule_id,
        rules.rule_order,
        count(*) as condition_count,
        sum(
            case
                when metrics_long.metric_value is not null
                    and (rules.min_value is null or metrics_long.metric_value >= rules.min_value)
                    and (rules.max_value is null or metrics_long.metric_value <= rules.max_value)
                then 1 else 0
            end
        ) as conditions_met
    from rules
    inner join metrics_long
        on rules.metric = metrics_long.metric
    group by 1, 2, 3, 4, 5

),

winners as (

    select
        customer_key,
        segmentation,
        segment,
        rule_id,
        row_number() over (
            partition by customer_key, segmentation order by rule_order, rule_id
        ) as winner_rank
    from rule_checks
    where conditions_met = condition_count

)

select
    customer_metrics.customer_key,
    customer_metrics.customer_id,
    coalesce(lifecycle.segment, '{{ var("default_lifecycle_stage") }}') as lifecycle_stage,
    lifecycle.rule_id as lifecycle_rule_id,
    coalesce(behavioural.segment, '{{ var("default_behavioural_segment") }}') as behavioural_segment,
    behavioural.rule_id as behavioural_rule_id
from customer_metrics
left join winners as lifecycle
    on customer_metrics.customer_key = lifecycle.customer_key
    and lifecycle.segmentation = 'lifecycle'
    and lifecycle.winner_rank = 1
left join winners as behavioural
    on customer_metrics.customer_key = behavioural.customer_key
    and behavioural.segmentation = 'behavioural'
    and behavioural.winner_rank = 1
