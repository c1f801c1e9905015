-- One row per fitted parameter of the CLV models (BG/NBD r, alpha, a, b; Gamma-Gamma p, q, v)
-- for the fit of the current build, so the model behind fct_customer_value is inspectable.

with

fit as (

    select distinct
        model_version, fit_date, bgnbd_r, bgnbd_alpha, bgnbd_a, bgnbd_b, gg_p, gg_q, gg_v
    from {{ ref('customer_value_predictions') }}

),

final as (

    select model_version, fit_date, 'bg_nbd' as model, 'r' as parameter, bgnbd_r as value from fit
    union all
    select model_version, fit_date, 'bg_nbd', 'alpha', bgnbd_alpha from fit
    union all
    select model_version, fit_date, 'bg_nbd', 'a', bgnbd_a from fit
    union all
    select model_version, fit_date, 'bg_nbd', 'b', bgnbd_b from fit
    union all
    select model_version, fit_date, 'gamma_gamma', 'p', gg_p from fit
    union all
    select model_version, fit_date, 'gamma_gamma', 'q', gg_q from fit
    union all
    select model_version, fit_date, 'gamma_gamma', 'v', gg_v from fit

)

select
    cast(model_version as varchar) as model_version,
    cast(fit_date as date) as fit_date,
    cast(model as varchar) as model,
    cast(parameter as varchar) as parameter,
    cast(value as double) as value
from final
