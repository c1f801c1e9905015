-- One row per model prediction: the model and customer it is for, the score or value, the
-- classifier's thresholded label, confidence and serving latency.

with

predictions as (

    select * from {{ ref('stg_mlops__model_predictions') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

models as (

    select * from {{ ref('dim_ml_model') }}

),

final as (

    select
        ---------- ids
        predictions.prediction_id,
        predictions.model_id,
        predictions.customer_ref,

        ---------- keys
        cast(predictions.predicted_at as date) as predicted_date,
        {{ resolve_key('models.model_key') }} as model_key,
        {{ member_key('shop_xref.customer_id') }} as customer_key,

        ---------- attributes
        predictions.prediction_type,

        ---------- measures
        predictions.predicted_value,
        predictions.confidence,
        cast(predictions.latency_ms as integer) as latency_ms,

        ---------- flags
        predictions.is_predicted_positive,

        ---------- timestamps
        cast(predictions.predicted_at as timestamp) as predicted_at
    from predictions
    left join shop_xref
        on predictions.customer_ref = shop_xref.shop_customer_id
    left join models
        on predictions.model_id = models.model_id

)

select * from final
