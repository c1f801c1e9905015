-- The CLV trend, a monthly snapshot: one row per golden customer who had purchased and as-of
-- date (the newest load date of each of the last clv_history_months months with a load), the
-- predictions of the CLV model fitted on the orders up to that day
-- (int_customer_value_predictions_history) and the CLV decile among that day's buyers (10 = most
-- valuable, fct_customer_value's rule). Chart sum(predicted_clv_12mo) or the decile mix per
-- as_of_date; the latest as_of_date is fct_customer_value's prediction.

with

predictions as (

    select
        *,
        max(as_of_date) over () as latest_as_of_date
    from {{ ref('int_customer_value_predictions_history') }}

),

final as (

    select
        {{ surrogate_key(['customer_id', 'as_of_date']) }} as customer_value_history_id,
        as_of_date,
        {{ member_key('customer_id') }} as customer_key,
        customer_id,
        cast(frequency as integer) as frequency,
        cast(recency_days as double) as recency_days,
        cast(age_days as double) as age_days,
        cast(p_alive as double) as p_alive,
        cast(1 - p_alive as double) as churn_probability,
        cast(expected_purchases_12mo as double) as expected_purchases_12mo,
        {{ double_to_decimal('predicted_clv_12mo', 'decimal(14, 2)') }} as predicted_clv_12mo,
        {{ double_to_decimal('predicted_clv_36mo', 'decimal(14, 2)') }} as predicted_clv_36mo,
        cast(ntile(10) over (partition by as_of_date order by predicted_clv_12mo, customer_id) as integer) as clv_decile,
        model_version,
        as_of_date = latest_as_of_date as is_latest
    from predictions

)

select * from final
