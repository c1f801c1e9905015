-- One row per model prediction: the model and customer it is for, the score or value, the
-- classifier's thresholded label, confidence and serving latency.

{{ config(materialized='incremental', unique_key='prediction_id') }}

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

{%- if is_incremental() %}

-- the predictions a daily run rebuilds: new versions, re-keyed customers, a model that changed
-- its key (a model the registry lists for the first time)
touched as (

    select prediction_id from predictions where {{ in_changed_partitions('_source_file') }}
    union
    select built.prediction_id
    from {{ this }} as built
    left join shop_xref
        on built.customer_ref = shop_xref.shop_customer_id
    left join models
        on built.model_id = models.model_id
    where built.customer_key <> {{ member_key('shop_xref.customer_id') }}
        or built.model_key <> {{ resolve_key('models.model_key') }}

),
{%- endif %}

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
    {%- if is_incremental() %}
    where predictions.prediction_id in (select touched.prediction_id from touched)
    {%- endif %}

)

select * from final
