-- One row per model version in the ML registry, plus the unknown member. Classifiers (churn,
-- cross-sell, product affinity) emit a thresholded positive/negative label with each score;
-- the other types predict a value (CLV, an action, a sentiment).

with

registry as (

    select * from {{ ref('stg_mlops__model_registry') }}

),

known as (

    select
        ---------- keys
        {{ surrogate_key(['model_id']) }} as model_key,
        model_id,

        ---------- attributes
        model_name,
        model_version,
        model_type,
        algorithm,
        cast(training_auc as double) as training_auc,

        ---------- flags
        model_type in ('churn', 'cross_sell', 'product_affinity') as is_classifier,
        is_active,

        ---------- dates
        cast(deployed_at as date) as deployed_date,

        ---------- timestamps
        cast(deployed_at as timestamp) as deployed_at,
        cast(deprecated_at as timestamp) as deprecated_at
    from registry

),

unknown as (

    {{ unknown_member_row() }}

),

final as (

    select * from known
    union all
    select * from unknown

)

select * from final
