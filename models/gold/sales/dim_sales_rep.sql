-- One row per CRM sales rep (newest version), with the territory and region they cover, plus the
-- unknown member. Rep names and work e-mails are internal data, not customer personal data.

with

reps as (

    select * from {{ ref('stg_crm__sales_reps') }}

),

territories as (

    select * from {{ ref('dim_sales_territory') }}

),

known as (

    select
        ---------- keys
        {{ surrogate_key(['reps.sales_rep_id']) }} as sales_rep_key,
        reps.sales_rep_id,
        reps.employee_id,
        reps.manager_id,
        {{ resolve_key('territories.sales_territory_key') }} as sales_territory_key,
        reps.territory_id,

        ---------- attributes
        reps.full_name as sales_rep_name,
        reps.email as work_email,
        reps.sales_team,
        coalesce(territories.territory_name, '{{ var("unknown_member_label") }}') as territory_name,
        coalesce(territories.region, '{{ var("unknown_member_label") }}') as region,
        cast(reps.commission_rate as double) as commission_rate,

        ---------- flags
        reps.is_active,

        ---------- dates
        reps.hire_date,

        ---------- lineage
        cast(reps.updated_at as timestamp) as updated_at
    from reps
    left join territories
        on reps.territory_id = territories.territory_id

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
