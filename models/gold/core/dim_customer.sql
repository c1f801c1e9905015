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
        -- a tier belongs to a member: a non-member's stale shop copy is not carried
        case when is_loyalty_member then loyalty_tier end as loyalty_tier,
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
        cast(last_updated_at as timestamp) as last_updated_at
    from golden

),

unknown as (

    {{ unknown_member_row({
        'source_record_count': 0,
        'source_system_count': 0,
    }) }}

),

final as (

    select * from customers
    union all
    select * from unknown

)

select * from final
