-- depends_on: {{ ref('survivorship_rules') }}
{#
    Survivorship is declared in seeds/mdm/survivorship_rules.csv and read here at compile time
    (macros/rules/survivorship.sql, shared with customer_history): for each attribute group,
    every record of the customer that has the group's first attribute competes, ranked by the
    group's rule with the source priority as tie-breaker; the winner gives all the group's
    attributes and is recorded as <group>_source.
#}
{%- set rules = survivorship_rules() %}

with

xref as (

    select * from {{ ref('customer_xref') }}

),

identities as (

    select
        xref.customer_id,
        identities.*
    from {{ ref('int_customer_identities_unioned') }} as identities
    inner join xref
        on identities.source_system = xref.source_system
        and identities.source_id = xref.source_id

),

customers as (

    select
        customer_id,
        count(*) as source_record_count,
        count(distinct source_system) as source_system_count,
        min(first_seen_date) as first_seen_date,
        max(updated_at) as last_updated_at,
        max(case when source_system = 'shop' then 1 else 0 end) = 1 as has_shop_account,
        max(case when source_system = 'loyalty' then 1 else 0 end) = 1 as is_loyalty_member,
        max(case when source_system = 'marketing' then 1 else 0 end) = 1 as is_email_subscriber,
        max(case when source_system = 'crm_contact' then 1 else 0 end) = 1 as is_crm_contact,
        max(case when source_system = 'support' then 1 else 0 end) = 1 as has_contacted_support
    from identities
    group by customer_id

),
{% for r in rules %}
{{ r.group }}_winner as (

    select
        customer_id,
        {%- for attribute in r.attributes %}
        {{ attribute }},
        {%- endfor %}
        source_system || ':' || source_id as {{ r.group }}_source,
        updated_at as {{ r.group }}_updated_at
    from (
        select
            identities.*,
            row_number() over (
                partition by customer_id
                order by {{ survivor_order(r) }}
            ) as survivor_rank
        from identities
        where {{ r.attributes[0] }} is not null
    ) as ranked
    where survivor_rank = 1

),
{% endfor %}
golden as (

    select
        customers.customer_id,
        {%- for r in rules %}
        {%- for attribute in r.attributes %}
        {{ r.group }}_winner.{{ attribute }},
        {%- endfor %}
        {%- endfor %}
        customers.first_seen_date,
        customers.source_record_count,
        customers.source_system_count,
        customers.has_shop_account,
        customers.is_loyalty_member,
        customers.is_email_subscriber,
        customers.is_crm_contact,
        customers.has_contacted_support,
        {%- for r in rules %}
        {{ r.group }}_winner.{{ r.group }}_source,
        {{ r.group }}_winner.{{ r.group }}_updated_at,
        {%- endfor %}
        customers.last_updated_at
    from customers
    {%- for r in rules %}
    left join {{ r.group }}_winner
        on customers.customer_id = {{ r.group }}_winner.customer_id
    {%- endfor %}

)

select * from golden
