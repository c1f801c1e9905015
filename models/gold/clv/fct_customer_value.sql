-- One row per golden customer: historical value (revenue, profit, cost to serve from finance),
-- purchase behaviour (frequency, recency, age in days), and the predictions: probability alive
-- and churn probability (MBG/NBD), expected purchases in 12 months (BG/NBD), predicted CLV over 12
-- and 36 months (BG/NBD + Gamma-Gamma, monthly discounting) and the CLV decile (10 = most
-- valuable). Customers who never purchased have no prediction.

with

customers as (

    select customer_id from {{ ref('customer_golden') }}

),

features as (

    select * from {{ ref('customer_features') }}

),

predictions as (

    select * from {{ ref('customer_value_predictions') }}

),

profitability as (

    select
        shop_xref.customer_id,
        sum(finance.revenue_amount) as finance_revenue,
        sum(finance.profit_amount) as profit,
        sum(coalesce(finance.servicing_cost, 0) + coalesce(finance.acquisition_cost, 0)) as cost_to_serve
    from {{ ref('stg_finance__customer_profitability') }} as finance
    inner join {{ ref('int_shop_customer_xref') }} as shop_xref
        on finance.customer_id = shop_xref.shop_customer_id
    group by shop_xref.customer_id

),

final as (

    select
        ---------- keys
        {{ member_key('customers.customer_id') }} as customer_key,
        customers.customer_id,

        ---------- historical value
        cast(features.lifetime_revenue as decimal(14, 2)) as historical_revenue,
        cast(features.refunded_amount as decimal(14, 2)) as refunded_amount,
        cast(profitability.profit as decimal(14, 2)) as historical_profit,
        cast(profitability.cost_to_serve as decimal(14, 2)) as cost_to_serve,
        cast(features.order_count as integer) as order_count,

        ---------- purchase behaviour (model inputs, days)
        cast(predictions.frequency as integer) as frequency,
        cast(predictions.recency_days as double) as recency_days,
        cast(predictions.age_days as double) as age_days,
        {{ double_to_decimal('predictions.monetary_value', 'decimal(14, 2)') }} as average_repeat_spend,

        ---------- predictions
        cast(predictions.p_alive as double) as p_alive,
        cast(1 - predictions.p_alive as double) as churn_probability,
        cast(predictions.expected_purchases_12mo as double) as expected_purchases_12mo,
        {{ double_to_decimal('predictions.expected_average_spend', 'decimal(14, 2)') }} as expected_average_spend,
        {{ double_to_decimal('predictions.predicted_clv_12mo', 'decimal(14, 2)') }} as predicted_clv_12mo,
        {{ double_to_decimal('predictions.predicted_clv_36mo', 'decimal(14, 2)') }} as predicted_clv_36mo,
        cast(case when predictions.customer_id is not null then
            ntile(10) over (
                partition by predictions.customer_id is not null
                order by predictions.predicted_clv_12mo, customers.customer_id
            ) end as integer) as clv_decile,

        ---------- model
        predictions.model_version,
        predictions.fit_date
    from customers
    left join features
        on customers.customer_id = features.customer_id
    left join predictions
        on customers.customer_id = predictions.customer_id
    left join profitability
        on customers.customer_id = profitability.customer_id

)

select * from final
