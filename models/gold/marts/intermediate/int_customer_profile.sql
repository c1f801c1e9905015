-- depends_on: {{ ref('profile_attributes') }}
-- One row per golden customer: the profile's completeness, the age bracket and life stage, and
-- the communication preferences, as of the as-of date.
--
-- profile_completeness (0-1) is the share of the attributes listed in
-- seeds/marts/profile_attributes.csv (read at compile time) that the golden record has.
-- The age is in whole years on the as-of date; its bracket and life stage come from
-- seeds/marts/age_brackets.csv, and are null (the customer kept) when the birth date is unknown
-- or lies after the as-of date. Communication preferences come from the sources that carry
-- consent: the shop account's marketing opt-in and preferred channel (the most recently updated
-- shop account of the customer) and the e-mail platform's subscription status (the most recently
-- updated subscriber record). A customer is e-mail contactable with an e-mail address and
-- either a subscription in a status of var email_contactable_statuses or, with no subscriber
-- record, a shop marketing opt-in: the e-mail platform's status (an unsubscribe, a bounce)
-- overrides the shop's opt-in.

{%- set attributes = seed_rows('profile_attributes') | map(attribute='attribute') | list %}
{%- if execute and flags.WHICH in ['run', 'build', 'test'] and not attributes %}
    {{ exceptions.raise_compiler_error('int_customer_profile: seeds/marts/profile_attributes.csv lists no attribute') }}
{%- endif %}

with

customers as (

    select * from {{ ref('dim_customer') }}
    where customer_key <> {{ unknown_member_key() }}

),

metrics as (

    select
        customer_key,
        as_of_date
    from {{ ref('int_customer_metrics') }}

),

age_brackets as (

    select * from {{ ref('age_brackets') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

shop_accounts as (

    select
        shop_xref.customer_id,
        shop_customers.has_marketing_opt_in,
        shop_customers.preferred_channel,
        row_number() over (
            partition by shop_xref.customer_id
            order by shop_customers.updated_at desc nulls last, shop_customers.customer_id
        ) as recency_rank
    from {{ ref('stg_shop__customers') }} as shop_customers
    inner join shop_xref
        on shop_customers.customer_id = shop_xref.shop_customer_id

),

subscriptions as (

    select
        xref.customer_id,
        subscribers.status,
        row_number() over (
            partition by xref.customer_id
            order by subscribers.updated_at desc nulls last, subscribers.subscriber_id
        ) as recency_rank
    from {{ ref('stg_marketing__subscribers') }} as subscribers
    inner join {{ ref('customer_xref') }} as xref
        on xref.source_system = 'marketing'
        and subscribers.subscriber_id = xref.source_id

),

aged as (

    select
        customers.customer_key,
        customers.customer_id,
        customers.email,
        (
            {%- for attribute in attributes %}
            case when customers.{{ attribute }} is not null then 1 else 0 end{{ ' +' if not loop.last }}
            {%- else %}
            null
            {%- endfor %}
        ) * cast(1 as double) / {{ attributes | length or 1 }} as profile_completeness,
        case when customers.birth_date <= metrics.as_of_date
            then {{ whole_years_between('customers.birth_date', 'metrics.as_of_date') }} end as age_years
    from customers
    inner join metrics
        on customers.customer_key = metrics.customer_key

),

final as (

    select
        aged.customer_key,
        aged.profile_completeness,
        aged.age_years,
        age_brackets.age_bracket,
        age_brackets.life_stage,
        shop_accounts.has_marketing_opt_in,
        shop_accounts.preferred_channel,
        subscriptions.status as email_subscription_status,
        aged.email is not null and coalesce(
            subscriptions.status in ('{{ var('email_contactable_statuses') | join("', '") }}'),
            shop_accounts.has_marketing_opt_in,
            false
        ) as is_email_contactable
    from aged
    left join age_brackets
        on aged.age_years >= age_brackets.min_age
        and (age_brackets.max_age is null or aged.age_years <= age_brackets.max_age)
    left join shop_accounts
        on aged.customer_id = shop_accounts.customer_id
        and shop_accounts.recency_rank = 1
    left join subscriptions
        on aged.customer_id = subscriptions.customer_id
        and subscriptions.recency_rank = 1

)

select * from final
