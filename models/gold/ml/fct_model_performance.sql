-- One row per model and calendar month of prediction, for every model of the registry: volume,
-- mean predicted value, confidence and latency, and, once the month's outcome window has closed
-- at the as-of date, the outcome each prediction is judged on (seed model_outcome_rules: an
-- order, no order or the revenue in the window after the prediction; a review's low rating for
-- the vendor's sentiment model): mean outcome, mean absolute error and, for labelled
-- predictions, the confusion matrix, accuracy, precision, recall and F1.

with

predictions as (

    select * from {{ ref('stg_mlops__model_predictions') }}

),

nlp as (

    select * from {{ ref('stg_mlops__nlp_sentiment') }}

),

reviews as (

    select * from {{ ref('fct_product_reviews') }}

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

rules as (

    select * from {{ ref('model_outcome_rules') }}

),

as_of as (

    select {{ as_of_date(ref('stg_shop__orders')) }} as as_of_date

),

customer_orders as (

    select
        shop_xref.customer_id,
        cast(orders.ordered_at as date) as order_date,
        orders.total_amount
    from orders
    inner join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id

),

-- the vendor's review scores, as predictions of the sentiment model version that made them:
-- a Negative label predicts a low review; the score's -1..1 maps onto a 0..1 negativity
review_scores as (

    select
        nlp.sentiment_id as prediction_id,
        models.model_id,
        models.model_type as prediction_type,
        reviews.customer_key as customer_ref,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        nlp.scored_at as predicted_at,
        (1 - nlp.sentiment_score) / 2 as predicted_value,
        nlp.sentiment_label = 'Negative' as is_predicted_positive,
        cast(null as double) as confidence,
        cast(null as double) as latency_ms,
        cast(reviews.is_low_rating as integer) as review_outcome
    from nlp
    inner join models
        on models.model_type = 'sentiment'
        and nlp.model_version = models.model_version
    inner join reviews
        on nlp.source_id = reviews.review_id
    where nlp.source_type = 'review'

),

scored as (

    select
        predictions.prediction_id,
        predictions.model_id,
        predictions.prediction_type,
        predictions.customer_ref,
        shop_xref.customer_id,
        predictions.predicted_at,
        predictions.predicted_value,
        predictions.is_predicted_positive,
        predictions.confidence,
        predictions.latency_ms,
        cast(null as integer) as review_outcome
    from predictions
    left join shop_xref
        on predictions.customer_ref = shop_xref.shop_customer_id
    union all
    select * from review_scores

),

resolved as (

    select
        scored.*,
        coalesce(models.model_type, scored.prediction_type) as model_type,
        rules.outcome,
        rules.outcome_window_days,
        cast(scored.predicted_at as date) as predicted_date,
        cast({{ dbt.date_trunc('month', 'scored.predicted_at') }} as date) as month_start_date,
        -- the month is judged once its last day plus the window lies on or before the as-of date
        {{ dbt.dateadd(
            'day', 'rules.outcome_window_days',
            dbt.last_day('cast(scored.predicted_at as date)', 'month')
        ) }} <= as_of.as_of_date as is_window_closed
    from scored
    cross join as_of
    left join models
        on scored.model_id = models.model_id
    left join rules
        on models.model_type = rules.model_type

),

judgeable as (

    select *
    from resolved
    where is_window_closed
        and (customer_id is not null or review_outcome is not null)

),

windows as (

    select
        judgeable.prediction_id,
        count(customer_orders.order_date) as order_count,
        coalesce(sum(customer_orders.total_amount), 0) as order_revenue
    from judgeable
    left join customer_orders
        on judgeable.customer_id = customer_orders.customer_id
        and customer_orders.order_date > judgeable.predicted_date
        and customer_orders.order_date <= {{ dbt.dateadd('day', 'judgeable.outcome_window_days', 'judgeable.predicted_date') }}
    group by judgeable.prediction_id

),

outcomes as (

    select
        judgeable.prediction_id,
        judgeable.is_predicted_positive,
        case judgeable.outcome
            when 'no_order' then cast(windows.order_count = 0 as integer)
            when 'order' then cast(windows.order_count > 0 as integer)
            when 'revenue' then windows.order_revenue
            when 'low_review' then judgeable.review_outcome
        end as actual_value,
        judgeable.outcome in ('no_order', 'order', 'low_review') as is_binary_outcome,
        judgeable.predicted_value
    from judgeable
    inner join windows
        on judgeable.prediction_id = windows.prediction_id

),

monthly as (

    select
        resolved.model_id,
        resolved.month_start_date,
        max(resolved.model_type) as model_type,
        max(resolved.outcome) as outcome,
        max(resolved.outcome_window_days) as outcome_window_days,
        count(*) as prediction_count,
        count(distinct resolved.customer_ref) as customer_count,
        {{ exact_avg('resolved.predicted_value') }} as mean_predicted_value,
        {{ exact_avg('resolved.confidence') }} as mean_confidence,
        avg(resolved.latency_ms) as mean_latency_ms,
        avg(case when resolved.is_predicted_positive then cast(1 as double) when resolved.is_predicted_positive is not null then cast(0 as double) end)
            as positive_prediction_rate,
        count(outcomes.prediction_id) as evaluated_prediction_count,
        {{ exact_avg('outcomes.actual_value') }} as mean_actual_value,
        {{ exact_avg('abs(outcomes.predicted_value - outcomes.actual_value)') }} as mean_absolute_error,
        sum(case when outcomes.is_binary_outcome and outcomes.is_predicted_positive and outcomes.actual_value = 1 then 1 else 0 end)
            as true_positive_count,
        sum(case when outcomes.is_binary_outcome and outcomes.is_predicted_positive and outcomes.actual_value = 0 then 1 else 0 end)
            as false_positive_count,
        sum(case when outcomes.is_binary_outcome and not outcomes.is_predicted_positive and outcomes.actual_value = 0 then 1 else 0 end)
            as true_negative_count,
        sum(case when outcomes.is_binary_outcome and not outcomes.is_predicted_positive and outcomes.actual_value = 1 then 1 else 0 end)
            as false_negative_count
    from resolved
    left join outcomes
        on resolved.prediction_id = outcomes.prediction_id
    group by resolved.model_id, resolved.month_start_date

),

metrics as (

    select
        monthly.*,
        true_positive_count + false_positive_count + true_negative_count + false_negative_count as labelled_count
    from monthly

),

rated as (

    select
        metrics.*,
        case when labelled_count > 0
            then (true_positive_count + true_negative_count) * cast(1 as double) / labelled_count
        end as accuracy_score,
        case when true_positive_count + false_positive_count > 0
            then true_positive_count * cast(1 as double) / (true_positive_count + false_positive_count)
        end as precision_score,
        case when true_positive_count + false_negative_count > 0
            then true_positive_count * cast(1 as double) / (true_positive_count + false_negative_count)
        end as recall_score
    from metrics

),

final as (

    select
        ---------- ids
        {{ surrogate_key(['rated.model_id', 'rated.month_start_date']) }} as model_performance_key,
        rated.model_id,

        ---------- keys
        {{ resolve_key('models.model_key') }} as model_key,
        rated.month_start_date,

        ---------- attributes
        rated.model_type,
        coalesce(models.is_classifier, false) as is_classifier,
        rated.outcome,

        ---------- volume and serving
        cast(rated.prediction_count as integer) as prediction_count,
        cast(rated.customer_count as integer) as customer_count,
        cast(rated.mean_predicted_value as double) as mean_predicted_value,
        cast(rated.mean_confidence as double) as mean_confidence,
        cast(rated.mean_latency_ms as double) as mean_latency_ms,
        cast(rated.positive_prediction_rate as double) as positive_prediction_rate,

        ---------- quality against the outcome
        cast(rated.outcome_window_days as integer) as outcome_window_days,
        rated.evaluated_prediction_count > 0 as is_evaluated,
        cast(rated.evaluated_prediction_count as integer) as evaluated_prediction_count,
        cast(rated.mean_actual_value as double) as mean_actual_value,
        cast(rated.mean_absolute_error as double) as mean_absolute_error,
        cast(rated.true_positive_count as integer) as true_positive_count,
        cast(rated.false_positive_count as integer) as false_positive_count,
        cast(rated.true_negative_count as integer) as true_negative_count,
        cast(rated.false_negative_count as integer) as false_negative_count,
        cast(
            case when rated.labelled_count > 0
                then (rated.true_positive_count + rated.false_negative_count) * cast(1 as double) / rated.labelled_count
            end as double
        ) as actual_positive_rate,
        cast(rated.accuracy_score as double) as accuracy_score,
        cast(rated.precision_score as double) as precision_score,
        cast(rated.recall_score as double) as recall_score,
        cast(
            case when rated.precision_score + rated.recall_score > 0
                then 2 * rated.precision_score * rated.recall_score / (rated.precision_score + rated.recall_score)
            end as double
        ) as f1_score
    from rated
    left join models
        on rated.model_id = models.model_id

)

select * from final
