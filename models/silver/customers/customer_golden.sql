-- depends_on: {{ ref('survivorship_rules') }}
{#
    Survivorship is declared in seeds/mdm/survivorship_rules.csv and read here at compile time:
    for each attribute group, every record of the customer that has the group's first attribute
    competes, ranked by the group's rule with the source priority as tie-breaker; the winner
    gives all the group's attributes and is recorded as <group>_source.
#}
{%- set rules = [] -%}
{#- load_relation is none when the seed is not built yet (dbt compile or docs on an empty
    warehouse): the model then compiles without attribute groups instead of failing. -#}
{%- if execute and load_relation(ref('survivorship_rules')) is not none -%}
    {%- set table = run_query("select attribute_group, attributes, rule, source_priority from " ~ ref('survivorship_rules') ~ " order by attribute_group") -%}
    {%- for row in table.rows -%}
        {%- do rules.append({'group': row[0], 'attributes': row[1].split('|'), 'rule': row[2], 'priority': row[3].split('|')}) -%}
    {%- endfor -%}
{%- endif -%}

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
                order by
                    {%- if r.rule == 'most_recent' %}
                    updated_at desc,
                    {%- elif r.rule == 'most_complete' %}
                    {%- for attribute in r.attributes %}
                    length(coalesce(cast({{ attribute }} as varchar), '')) desc,
                    {%- endfor %}
                    {%- endif %}
                    case source_system
                        {%- for source in r.priority %}
                        when '{{ source }}' then {{ loop.index }}
                        {%- endfor %}
                        else {{ r.priority | length + 1 }}
                    end,
                    updated_at desc,
                    source_system,
                    source_id
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
