-- One row per fitted parameter of the CLV models (BG/NBD r, alpha, a, b; MBG/NBD r, alpha, a, b,
-- the churn model behind p_alive; Gamma-Gamma p, q, v)
-- for the fit of the current build, so the model behind fct_customer_value is inspectable.

with

fit as (

    select distinct
        model_version, fit_date, bgnbd_r, bgnbd_alpha, bgnbd_a, bgnbd_b,
        mbgnbd_r, mbgnbd_alpha, mbgnbd_a, mbgnbd_b, gg_p, gg_q, gg_v
    from {{ ref('customer_value_predictions') }}

),

final as (

    select model_version, fit_date, 'bg_nbd' as model, 'r' as parameter, bgnbd_r as value from fit
    union all
    select model_version, fit_date, 'bg_nbd' as model, 'alpha' as parameter, bgnbd_alpha as value from fit
    union all
    select model_version, fit_date, 'bg_nbd' as model, 'a' as parameter, bgnbd_a as value from fit
    union all
    select model_version, fit_date, 'bg_nbd' as model, 'b' as parameter, bgnbd_b as value from fit
    union all
    select model_version, fit_date, 'mbg_nbd' as model, 'r' as parameter, mbgnbd_r as value from fit
    union all
    select model_version, fit_date, 'mbg_nbd' as model, 'alpha' as parameter, mbgnbd_alpha as value from fit
    union all
    select model_version, fit_date, 'mbg_nbd' as model, 'a' as parameter, mbgnbd_a as value from fit
    union all
    select model_version, fit_date, 'mbg_nbd' as model, 'b' as parameter, mbgnbd_b as value from fit
    union all
    select model_version, fit_date, 'gamma_gamma' as model, 'p' as parameter, gg_p as value from fit
    union all
    select model_version, fit_date, 'gamma_gamma' as model, 'q' as parameter, gg_q as value from fit
    union all
    select model_version, fit_date, 'gamma_gamma' as model, 'v' as parameter, gg_v as value from fit

)

select
    cast(model_version as {{ dbt.type_string() }}) as model_version,
    cast(fit_date as date) as fit_date,
    cast(model as {{ dbt.type_string() }}) as model,
    cast(parameter as {{ dbt.type_string() }}) as parameter,
    cast(value as double) as value
from final
