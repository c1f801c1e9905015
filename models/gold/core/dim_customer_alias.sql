-- One row per golden customer id a consumer may hold: every current id (resolving to itself)
-- and every id a merge absorbed (resolving to its survivor, through silver.customer_id_redirects).
-- Join an old extract's customer_id here to reach dim_customer; gold facts themselves always
-- carry current ids.

with

customers as (

    select customer_key, customer_id from {{ ref('dim_customer') }}
    where customer_id <> 'unknown'

),

redirects as (

    select * from {{ ref('customer_id_redirects') }}

),

current_ids as (

    select
        customer_id,
        customer_key,
        customer_id as current_customer_id,
        false as is_redirected,
        cast(null as date) as redirected_on
    from customers

),

absorbed_ids as (

    select
        redirects.absorbed_customer_id as customer_id,
        customers.customer_key,
        customers.customer_id as current_customer_id,
        true as is_redirected,
        redirects.redirected_on
    from redirects
    inner join customers
        on redirects.survivor_customer_id = customers.customer_id

),

final as (

    select * from current_ids
    union all
    select * from absorbed_ids

)

select * from final
