-- One row per campaign channel (the channels campaigns are sent through: e-mail, SMS, push) ×
-- calendar month, from the month of the first campaign to the as-of month: the marketing spend
-- booked in the month, the new customers the channel acquired in the month, and the customer
-- acquisition cost (CAC = spend / new customers).
--
-- Spend: the budget of each campaign, booked in the month of its send date, on its channel.
-- Acquisition: a golden customer is acquired in the month of their first order that was not
-- cancelled; the order is attributed to the channel of the campaign behind the latest
-- campaign-tagged touchpoint of that conversion in fct_marketing_attribution (its look-back
-- window: journey events, e-mail clicks and campaign-tagged sessions). A first order without a
-- campaign-tagged touch is acquired by no campaign channel and counts in no row.

with

campaigns as (

    select * from {{ ref('dim_campaign') }}
    where campaign_key <> {{ unknown_member_key() }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where not is_cancelled
        and customer_key <> {{ unknown_member_key() }}

),

attribution as (

    select * from {{ ref('fct_marketing_attribution') }}
    where campaign_key <> {{ unknown_member_key() }}

),

months as (

    select distinct first_day_of_month as month_start_date, year_month
    from {{ ref('dim_date') }}
    where is_past
        and year_number > 0
        and first_day_of_month >= (
            select cast({{ dbt.date_trunc('month', 'min(send_date)') }} as date) from campaigns
        )

),

channels as (

    select distinct channel_code from campaigns

),

spend as (

    select
        channel_code,
        cast({{ dbt.date_trunc('month', 'send_date') }} as date) as month_start_date,
        count(*) as campaigns_sent,
        sum(budget) as marketing_spend
    from campaigns
    group by 1, 2

),

first_orders as (

    select order_key, customer_key, ordered_at, net_amount
    from (
        select
            orders.*,
            row_number() over (
                partition by customer_key order by ordered_at, order_id
            ) as order_rank
        from orders
    ) as ranked
    where order_rank = 1

),

first_order_touches as (

    -- the latest campaign-tagged touch of each first order
    select
        attribution.order_key,
        campaigns.channel_code,
        row_number() over (
            partition by attribution.order_key
            order by attribution.touchpoint_position desc
        ) as touch_rank
    from attribution
    inner join first_orders
        on attribution.order_key = first_orders.order_key
    inner join campaigns
        on attribution.campaign_key = campaigns.campaign_key

),

acquisitions as (

    select
        first_order_touches.channel_code,
        cast({{ dbt.date_trunc('month', 'first_orders.ordered_at') }} as date) as month_start_date,
        count(*) as new_customers,
        sum(first_orders.net_amount) as first_order_revenue
    from first_order_touches
    inner join first_orders
        on first_order_touches.order_key = first_orders.order_key
    where first_order_touches.touch_rank = 1
    group by 1, 2

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['channels.channel_code', 'months.month_start_date']) }} as acquisition_cost_key,
        {{ member_key('channels.channel_code') }} as channel_key,
        months.month_start_date,

        ---------- attributes
        channels.channel_code,
        months.year_month,

        ---------- measures
        cast(coalesce(spend.campaigns_sent, 0) as integer) as campaigns_sent,
        cast(coalesce(spend.marketing_spend, 0) as decimal(14, 2)) as marketing_spend,
        cast(coalesce(acquisitions.new_customers, 0) as integer) as new_customers,
        cast(coalesce(acquisitions.first_order_revenue, 0) as decimal(14, 2)) as first_order_revenue,
        {{ double_to_decimal(
            'case when acquisitions.new_customers > 0
                then coalesce(spend.marketing_spend, 0) / acquisitions.new_customers end', 'decimal(14, 2)'
        ) }} as customer_acquisition_cost
    from months
    cross join channels
    left join spend
        on channels.channel_code = spend.channel_code
        and months.month_start_date = spend.month_start_date
    left join acquisitions
        on channels.channel_code = acquisitions.channel_code
        and months.month_start_date = acquisitions.month_start_date

)

select * from final
