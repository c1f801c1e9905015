-- One row per golden customer, plus the unknown member: the conformed customer dimension. With
-- mart_customer_360 it is the only gold table that carries personal data (names, e-mail, phone,
-- address, birth date); facts reference it by customer_key.

with

golden as (

    select * from {{ ref('customer_golden') }}

),

customers as (

    select
        ---------- keys
        {{ surrogate_key(['customer_id']) }} as customer_key,
        customer_id,

        ---------- personal data
        first_name,
        last_name,
        trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) as full_name,
        email,
        phone,
        birth_date,
        address_line1,
        city,
        state,
        postal_code,

        ---------- attributes
        coalesce(loyalty_tier, 'None') as loyalty_tier,
        first_seen_date as signup_date,
        source_record_count,
        source_system_count,

        ---------- flags
        has_shop_account,
        is_loyalty_member,
        is_email_subscriber,
        is_crm_contact,
        has_contacted_support,

        ---------- lineage
        last_updated_at
    from golden

),

unknown as (

    select
        {{ unknown_member_key() }} as customer_key,
        'unknown' as customer_id,
        cast(null as varchar) as first_name,
        cast(null as varchar) as last_name,
        'Unknown customer' as full_name,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,
        cast(null as date) as birth_date,
        cast(null as varchar) as address_line1,
        cast(null as varchar) as city,
        cast(null as varchar) as state,
        cast(null as varchar) as postal_code,
        'Unknown' as loyalty_tier,
        cast(null as date) as signup_date,
        0 as source_record_count,
        0 as source_system_count,
        false as has_shop_account,
        false as is_loyalty_member,
        false as is_email_subscriber,
        false as is_crm_contact,
        false as has_contacted_support,
        cast(null as timestamp) as last_updated_at

),

final as (

    select * from customers
    union all
    select * from unknown

)

select * from final
