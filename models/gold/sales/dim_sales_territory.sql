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
        updated_at
    from territories

),

unknown as (

    select
        {{ unknown_member_key() }} as sales_territory_key,
        'unknown' as territory_id,
        'Unknown territory' as territory_name,
        'Unknown' as region,
        cast(null as {{ dbt.type_string() }}) as states,
        cast(0 as integer) as state_count,
        cast(null as {{ dbt.type_timestamp() }}) as updated_at

),

final as (

    select * from known
    union all
    select * from unknown

)

select * from final
