-- depends_on: {{ ref('next_best_actions') }}
-- depends_on: {{ ref('next_best_action_thresholds') }}
{#
    One row per golden customer: the next best action and why. Rules as data:
      seeds/marts/next_best_actions.csv            the actions and their priority (1 first)
      seeds/marts/next_best_action_thresholds.csv  every threshold of every rule
    Each rule's condition and reason are written once, below, in terms of its thresholds; the
    action case and the reason case are both generated from them in priority order:
      sales_follow_up    an open opportunity with no interaction for min_quiet_days or more
      service_recovery   min_negative_texts negative texts, or min_low_reviews low reviews
                         (var low_review_max_rating), in the last lookback_days
      offer_fitmap_scan  fit returns or sizing tickets, and never scanned with FitMap
      loyalty_reward     CLV decile >= min_clv_decile, no order for min_days_since_last_order
                         days, and an e-mail open rate below max_email_open_rate
      collection_email   min_order_count orders, the last one min_ to max_days_since_last_order ago
      no_action          otherwise

    Counts in a reason go through bigint before text: a count that is a double on one engine
    (Spark sums some of them as doubles) would print "4.0" there and "4" on the other.
#}
{%- set text = dbt.type_string() -%}
{%- set t = rule_parameters('next_best_action_thresholds', 'action') -%}
{%- set quiet_days = rule_value(t, 'sales_follow_up', 'min_quiet_days') -%}
{%- set lookback_days = rule_value(t, 'service_recovery', 'lookback_days') | int -%}
{%- set negative_texts = rule_value(t, 'service_recovery', 'min_negative_texts') -%}
{%- set low_reviews = rule_value(t, 'service_recovery', 'min_low_reviews') -%}
{%- set loyalty_decile = rule_value(t, 'loyalty_reward', 'min_clv_decile') -%}
{%- set loyalty_days = rule_value(t, 'loyalty_reward', 'min_days_since_last_order') -%}
{%- set loyalty_open_rate = rule_value(t, 'loyalty_reward', 'max_email_open_rate') -%}
{%- set collection_orders = rule_value(t, 'collection_email', 'min_order_count') -%}
{%- set collection_min_days = rule_value(t, 'collection_email', 'min_days_since_last_order') -%}
{%- set collection_max_days = rule_value(t, 'collection_email', 'max_days_since_last_order') -%}
{%- set rules = {
    'sales_follow_up': {
        'when': 'quiet_opportunities.quiet_days >= ' ~ quiet_days,
        'reason': "'Opportunity ' || quiet_opportunities.opportunity_id || ' has had no interaction for '
                    || cast(cast(quiet_opportunities.quiet_days as bigint) as " ~ text ~ ") || ' days'",
    },
    'service_recovery': {
        'when': 'recent_negatives.negative_texts >= ' ~ negative_texts
            ~ ' or recent_negatives.low_reviews >= ' ~ low_reviews,
        'reason': "cast(cast(recent_negatives.negative_texts as bigint) as " ~ text ~ ") || ' negative messages and '
                    || cast(cast(recent_negatives.low_reviews as bigint) as " ~ text ~ ") || ' low reviews in "
            ~ lookback_days ~ " days'",
    },
    'offer_fitmap_scan': {
        'when': '(customer_metrics.sizing_return_count > 0 or customer_metrics.sizing_ticket_count > 0)
                and coalesce(customer_metrics.fitmap_scan_count, 0) = 0',
        'reason': "'Sizing problems (' || cast(cast(customer_metrics.sizing_return_count as bigint) as " ~ text ~ ")
                    || ' fit returns, ' || cast(cast(customer_metrics.sizing_ticket_count as bigint) as " ~ text ~ ")
                    || ' sizing tickets) and no FitMap scan'",
    },
    'loyalty_reward': {
        'when': 'customer_metrics.clv_decile >= ' ~ loyalty_decile
            ~ ' and customer_metrics.days_since_last_order >= ' ~ loyalty_days
            ~ ' and coalesce(customer_metrics.email_open_rate, 0) < ' ~ loyalty_open_rate,
        'reason': "'High value (CLV decile ' || cast(cast(customer_metrics.clv_decile as bigint) as " ~ text ~ ")
                    || ') but no order for ' || cast(cast(customer_metrics.days_since_last_order as bigint) as " ~ text ~ ")
                    || ' days and few e-mail opens'",
    },
    'collection_email': {
        'when': 'customer_metrics.order_count >= ' ~ collection_orders
            ~ ' and customer_metrics.days_since_last_order between ' ~ collection_min_days
            ~ ' and ' ~ collection_max_days,
        'reason': "'Due for a wardrobe refresh: last order ' || cast(cast(customer_metrics.days_since_last_order as bigint) as " ~ text ~ ")
                    || ' days ago, favourite category ' || coalesce(customer_metrics.favourite_category, 'unknown')",
    },
} -%}
{%- set fallback = 'no_action' -%}
{%- set ordered = [] -%}
{%- for row in seed_rows('next_best_actions', order_by='priority') -%}
    {#- an action without a priority is one only the source systems offer: no rule here -#}
    {%- if row.action != fallback and row.priority is not none -%}
        {%- if row.action not in rules -%}
            {{ exceptions.raise_compiler_error('next_best_actions.csv has action ' ~ row.action ~ ' but int_customer_next_best_action has no rule for it') }}
        {%- endif -%}
        {%- do ordered.append(row.action) -%}
    {%- endif -%}
{%- endfor %}

with

customer_metrics as (

    select * from {{ ref('int_customer_metrics') }}

),

quiet_opportunities as (

    select
        opportunities.customer_id,
        min(opportunities.opportunity_id) as opportunity_id,
        max({{ dbt.datediff(
            'cast(greatest(coalesce(activities.last_activity_at, opportunities.current_stage_entered_at), opportunities.current_stage_entered_at) as date)',
            as_of_date(ref('stg_crm__opportunities')), 'day') }}) as quiet_days
    from {{ ref('opportunity_golden') }} as opportunities
    left join (
        select opportunity_id, max(activity_at) as last_activity_at
        from {{ ref('stg_crm__activities') }}
        group by opportunity_id
    ) as activities
        on opportunities.opportunity_id = activities.opportunity_id
    where opportunities.is_open
        and opportunities.customer_id is not null
    group by opportunities.customer_id

),

recent_negatives as (

    select
        texts.customer_id,
        count(*) filter (where texts.sentiment_label = 'negative') as negative_texts,
        count(*) filter (
            where texts.source_type = 'review' and {{ is_low_rating('reviews.rating') }}
        ) as low_reviews
    from {{ ref('sentiment_unified') }} as texts
    left join {{ ref('stg_reviews__product_reviews') }} as reviews
        -- one key, not a key and a test of the text's type: DuckDB plans a left join whose
        -- condition tests the kept side against a constant as a nested loop, every text
        -- against every review (7 s at scale 1, quadratic beyond)
        on reviews.review_id = case when texts.source_type = 'review' then texts.source_id end
    where texts.customer_id is not null
        and texts.written_at >= {{ dbt.dateadd('day', -lookback_days, as_of_date(ref('stg_shop__orders'))) }}
    group by texts.customer_id

),

decided as (

    select
        customer_metrics.customer_key,
        customer_metrics.customer_id,
        case
            {%- for action in ordered %}
            when {{ rules[action].when }} then '{{ action }}'
            {%- endfor %}
            else '{{ fallback }}'
        end as next_best_action,
        case
            {%- for action in ordered %}
            when {{ rules[action].when }}
                then {{ rules[action].reason }}
            {%- endfor %}
            else 'Nothing needs doing now'
        end as next_best_action_reason
    from customer_metrics
    left join quiet_opportunities
        on customer_metrics.customer_id = quiet_opportunities.customer_id
    left join recent_negatives
        on customer_metrics.customer_id = recent_negatives.customer_id

)

select * from decided
