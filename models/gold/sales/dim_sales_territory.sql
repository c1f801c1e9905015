-- One row per CRM sales territory, plus the unknown member.

with

territories as (

    select * from {{ ref('stg_crm__territories') }}

),

known as (

    select
        ---------- keys
        {{ surrogate_key(['territory_id']) }} as sales_territory_key,
        territory_id,

        ---------- attributes
        territory_name,
        region,
        states,
        cast(
            {{ dbt.length('states') }} - {{ dbt.length("replace(states, ',', '')") }} + 1 as integer
        ) as state_count,

        ---------- lineage
        cast(updated_at as timestamp) as updated_at
    from territories

),

unknown as (

    {{ unknown_member_row({
        'state_count': 0,
    }) }}

),

final as (

    select * from known
    union all
    select * from unknown

)

select * from final
