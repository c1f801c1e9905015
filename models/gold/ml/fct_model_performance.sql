{#-
    Churn ground truth: a golden customer churned after a prediction when they placed no shop
    order (any status, any of their shop accounts) in the churn_window_days after the prediction
    date. Only predictions at least that many days before the as-of date can be judged.
-#}
{%- set churn_window_days = var('churn_window_days') -%}

-- One row per model and calendar month of prediction: volume, mean predicted value, confidence
-- and latency for every model, and for the churn model the confusion matrix, accuracy,
-- precision, recall and F1 of its positive/negative label against what actually happened
-- (no order in the {{ churn_window_days }} days after the prediction = churned).

with

predictions as (

    select * from {{ ref('stg_mlops__model_predictions') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

models as (

    select * from {{ ref('dim_ml_model') }}

),

as_of as (

    select {{ as_of_date(ref('stg_shop__orders')) }} as as_of_date

),

customer_order_dates as (

    select distinct
        shop_xref.customer_id,
        cast(orders.ordered_at as date) as order_date
    from orders
    inner join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id

),

resolved as (

    select
        predictions.*,
        shop_xref.customer_id,
        cast(predictions.predicted_at as date) as predicted_date,
        cast({{ dbt.date_trunc('month', 'predictions.predicted_at') }} as date) as month_start_date
    from predictions
    left join shop_xref
        on predictions.customer_ref = shop_xref.shop_customer_id

),

judgeable as (

    select resolved.*
    from resolved
    cross join as_of
    where resolved.prediction_type = 'churn'
        and resolved.is_predicted_positive is not null
        and resolved.customer_id is not null
        and resolved.predicted_date <= {{ dbt.dateadd('day', -churn_window_days, 'as_of.as_of_date') }}

),

churn_outcomes as (

    select
        judgeable.prediction_id,
        judgeable.is_predicted_positive,
        count(customer_order_dates.order_date) = 0 as is_churned
    from judgeable
    left join customer_order_dates
        on judgeable.customer_id = customer_order_dates.customer_id
        and customer_order_dates.order_date > judgeable.predicted_date
        and customer_order_dates.order_date <= {{ dbt.dateadd('day', churn_window_days, 'judgeable.predicted_date') }}
    group by judgeable.prediction_id, judgeable.is_predicted_positive

),

monthly as (

    select
        resolved.model_id,
        resolved.month_start_date,
        max(resolved.prediction_type) as prediction_type,
        count(*) as prediction_count,
        count(distinct resolved.customer_ref) as customer_count,
        avg(resolved.predicted_value) as mean_predicted_value,
        avg(resolved.confidence) as mean_confidence,
        avg(resolved.latency_ms) as mean_latency_ms,
        avg(case when resolved.is_predicted_positive then 1.0 when resolved.is_predicted_positive is not null then 0.0 end)
            as positive_prediction_rate,
        count(churn_outcomes.prediction_id) as evaluated_prediction_count,
        sum(case when churn_outcomes.is_predicted_positive and churn_outcomes.is_churned then 1 else 0 end) as true_positive_count,
        sum(case when churn_outcomes.is_predicted_positive and not churn_outcomes.is_churned then 1 else 0 end) as false_positive_count,
        sum(case when not churn_outcomes.is_predicted_positive and not churn_outcomes.is_churned then 1 else 0 end) as true_negative_count,
        sum(case when not churn_outcomes.is_predicted_positive and churn_outcomes.is_churned then 1 else 0 end) as false_negative_count
    from resolved
    left join churn_outcomes
        on resolved.prediction_id = churn_outcomes.prediction_id
    group by resolved.model_id, resolved.month_start_date

),

scored as (

    select
        monthly.*,
        case when evaluated_prediction_count > 0
            then (true_positive_count + true_negative_count) * 1.0 / evaluated_prediction_count
        end as accuracy_score,
        case when true_positive_count + false_positive_count > 0
            then true_positive_count * 1.0 / (true_positive_count + false_positive_count)
        end as precision_score,
        case when true_positive_count + false_negative_count > 0
            then true_positive_count * 1.0 / (true_positive_count + false_negative_count)
        end as recall_score,
        case when evaluated_prediction_count > 0
            then (true_positive_count + false_negative_count) * 1.0 / evaluated_prediction_count
        end as actual_churn_rate
    from monthly

),

final as (

    select
        ---------- ids
        {{ surrogate_key(['scored.model_id', 'scored.month_start_date']) }} as model_performance_key,
        scored.model_id,

        ---------- keys
        {{ resolve_key('models.model_key') }} as model_key,
        scored.month_start_date,

        ---------- attributes
        coalesce(models.model_type, scored.prediction_type) as model_type,
        coalesce(models.is_classifier, false) as is_classifier,

        ---------- volume and serving
        cast(scored.prediction_count as integer) as prediction_count,
        cast(scored.customer_count as integer) as customer_count,
        cast(scored.mean_predicted_value as double) as mean_predicted_value,
        cast(scored.mean_confidence as double) as mean_confidence,
        cast(scored.mean_latency_ms as double) as mean_latency_ms,
        cast(scored.positive_prediction_rate as double) as positive_prediction_rate,

        ---------- churn classification quality
        cast({{ churn_window_days }} as integer) as outcome_window_days,
        scored.evaluated_prediction_count > 0 as is_evaluated,
        cast(scored.evaluated_prediction_count as integer) as evaluated_prediction_count,
        cast(scored.true_positive_count as integer) as true_positive_count,
        cast(scored.false_positive_count as integer) as false_positive_count,
        cast(scored.true_negative_count as integer) as true_negative_count,
        cast(scored.false_negative_count as integer) as false_negative_count,
        cast(scored.actual_churn_rate as double) as actual_churn_rate,
        cast(scored.accuracy_score as double) as accuracy_score,
        cast(scored.precision_score as double) as precision_score,
        cast(scored.recall_score as double) as recall_score,
        cast(
            case when scored.precision_score + scored.recall_score > 0
                then 2 * scored.precision_score * scored.recall_score / (scored.precision_score + scored.recall_score)
            end as double
        ) as f1_score
    from scored
    left join models
        on scored.model_id = models.model_id

)

select * from final
