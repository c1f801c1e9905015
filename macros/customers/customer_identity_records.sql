{#
    The source identity records (shop customer, CRM contact, support requester, e-mail
    subscriber, loyalty member) in one shape, written once for the two readers:
    int_customer_identities_unioned (versions=false: the newest version of each record, for
    matching and survivorship) and int_customer_identity_versions (versions=true: every version
    the sources sent, from the staging _versions models, with the _load_date that brought it,
    for customer_history). Sources that keep one full-name field take first and last name from
    int_customer_full_names (the record's current name: names are not history-tracked).
#}
{% macro customer_identity_records(versions=false) -%}
{%- set suffix = '_versions' if versions else '' -%}
with

full_names as (

    select * from {{ ref('int_customer_full_names') }}

),

shop_customers as (

    select
        'shop' as source_system,
        customer_id as source_id,
        first_name,
        last_name,
        email,
        phone,
        birth_date,
        address_line1,
        city,
        state,
        postal_code,
        loyalty_tier,
        signup_date as first_seen_date,
        updated_at,
        _loaded_at{% if versions %},
        _load_date{% endif %}
    from {{ ref('stg_shop__customers' ~ suffix) }}

),

crm_contacts as (

    select
        'crm_contact' as source_system,
        contact_id as source_id,
        first_name,
        last_name,
        email,
        phone,
        birth_date,
        mailing_street as address_line1,
        mailing_city as city,
        mailing_state as state,
        mailing_postal_code as postal_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_tier,
        cast(created_at as date) as first_seen_date,
        updated_at,
        _loaded_at{% if versions %},
        _load_date{% endif %}
    from {{ ref('stg_crm__contacts' ~ suffix) }}

),

support_requesters as (

    select
        'support' as source_system,
        cast(requesters.requester_id as {{ dbt.type_string() }}) as source_id,
        full_names.first_name,
        full_names.last_name,
        requesters.email,
        requesters.phone,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as address_line1,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as state,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_tier,
        cast(requesters.created_at as date) as first_seen_date,
        requesters.updated_at,
        requesters._loaded_at{% if versions %},
        requesters._load_date{% endif %}
    from {{ ref('stg_support__requesters' ~ suffix) }} as requesters
    left join full_names
        on full_names.source_system = 'support'
        and full_names.source_id = cast(requesters.requester_id as {{ dbt.type_string() }})

),

marketing_subscribers as (

    select
        'marketing' as source_system,
        subscriber_id as source_id,
        first_name,
        last_name,
        email,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as address_line1,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as state,
        postal_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_tier,
        cast(subscribed_at as date) as first_seen_date,
        updated_at,
        _loaded_at{% if versions %},
        _load_date{% endif %}
    from {{ ref('stg_marketing__subscribers' ~ suffix) }}

),

loyalty_members as (

    select
        'loyalty' as source_system,
        members.member_id as source_id,
        full_names.first_name,
        full_names.last_name,
        members.email,
        members.phone,
        members.birth_date,
        members.address as address_line1,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as state,
        members.postal_code,
        members.loyalty_tier,
        members.enrolled_date as first_seen_date,
        members.updated_at,
        members._loaded_at{% if versions %},
        members._load_date{% endif %}
    from {{ ref('stg_loyalty__members' ~ suffix) }} as members
    left join full_names
        on full_names.source_system = 'loyalty'
        and full_names.source_id = members.member_id

),

unioned as (

    select * from shop_customers
    union all
    select * from crm_contacts
    union all
    select * from support_requesters
    union all
    select * from marketing_subscribers
    union all
    select * from loyalty_members

)

select * from unioned
{%- endmacro %}
