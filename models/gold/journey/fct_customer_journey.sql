-- One row per golden customer touchpoint (customer journey mapping), in time order per
-- customer: interactions (e-mail clicks and conversions, web and app sessions, store visits,
-- journey-platform events), FitMap scans, purchases (orders that were not cancelled), support
-- tickets, product reviews and loyalty enrolments / tier changes. Touchpoints of records that are
-- not matched to a golden customer (anonymous sessions, unmatched source ids) are left out: a
-- journey needs a person.
--
-- Marketing touchpoints (is_marketing_touch) are the inputs of fct_marketing_attribution, so both
-- facts share one definition of a touch and of its marketing channel.
--
-- The touchpoints (one CTE per source, all with the same columns) are the macro
-- customer_journey_touchpoints. On DuckDB the table is incremental by customer: a daily run
-- compares today's touchpoints with the table, rebuilds the whole journey of every customer
-- whose touchpoints changed (new, moved, re-keyed or with other attributes: sequence numbers
-- depend on all of a customer's touchpoints), and its post-hook removes the rows of touchpoints
-- that are gone (an order cancelled, a record moved away, a customer merged into another). Spark,
-- whose Parquet tables cannot delete, rebuilds it.

{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    unique_key='customer_key',
    post_hook="{{ delete_gone_journey_touchpoints() }}",
) }}

with

touchpoints as (

    {{ customer_journey_touchpoints() | indent(4) }}

),
{%- if is_incremental() %}

---------- the customers a daily run rebuilds

built as (

    select {{ journey_compared_columns() }} from {{ this }}

),

current_touchpoints as (

    select {{ journey_compared_columns() }} from touchpoints

),

changed_customers as (

    -- a touchpoint new, gone, moved to another customer or changed in any attribute: both
    -- the customer it has now and the one it had are rebuilt
    select customer_key
    from (select * from current_touchpoints except select * from built) as added
    union
    select customer_key
    from (select * from built except select * from current_touchpoints) as removed

),
{%- endif %}

---------- logical CTEs

touchpoints_sequenced as (

    select
        touchpoints.*,
        row_number() over (
            partition by customer_key
            order by touchpoint_at, touchpoint_type, source_id
        ) as sequence_number,
        row_number() over (
            partition by customer_key, touchpoint_type
            order by touchpoint_at, source_id
        ) as type_sequence_number,
        row_number() over (
            partition by customer_key, touchpoint_category
            order by touchpoint_at, touchpoint_type, source_id
        ) as category_sequence_number,
        lag(touchpoint_at) over (
            partition by customer_key
            order by touchpoint_at, touchpoint_type, source_id
        ) as previous_touchpoint_at
    from touchpoints
    {%- if is_incremental() %}
    where customer_key in (select customer_key from changed_customers)
    {%- endif %}

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['touchpoint_type', 'source_id']) }} as touchpoint_key,
        customer_key,
        channel_key,
        campaign_key,
        cast(touchpoint_at as date) as touchpoint_date,

        ---------- ids
        customer_id,
        source_id,

        ---------- attributes
        touchpoint_type,
        touchpoint_category,
        case
            when touchpoint_category = 'interaction' and category_sequence_number = 1
                then 'first_interaction'
            when touchpoint_category = 'interaction' then 'engagement'
            when touchpoint_category = 'purchase' and category_sequence_number = 1
                then 'first_purchase'
            when touchpoint_category = 'purchase' then 'repeat_purchase'
            else touchpoint_category
        end as journey_stage,
        marketing_channel,
        touchpoint_detail,

        ---------- measures
        cast(sequence_number as integer) as sequence_number,
        cast({{ dbt.datediff('previous_touchpoint_at', 'touchpoint_at', 'day') }} as integer)
            as days_since_previous_touchpoint,
        order_net_amount,

        ---------- flags
        type_sequence_number = 1 as is_first_of_type,
        is_marketing_touch,

        ---------- timestamps
        cast(touchpoint_at as timestamp) as touchpoint_at
    from touchpoints_sequenced

)

select * from final
