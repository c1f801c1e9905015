-- depends_on: {{ ref('survivorship_rules') }}
{#
    Type-2 history of the golden customer's tracked attributes (the survivorship groups named by
    var('history_customer_tracked_groups')), rebuilt from every version bronze holds on each
    build, so it depends on the data only, never on which builds ran.

    Time axis: the sources' updated_at. At every moment one of a customer's records changed,
    each of its records is taken as its newest version not after that moment, the survivorship
    rules (macros/rules/survivorship.sql, the same as customer_golden) pick the winners, and a
    row starts where the winning values differ from the previous moment's. valid_from is that
    updated_at (when the change happened in the source, which a late-arriving version restates
    on the next build); known_from_load_date is the load by which every version the row was
    computed from had arrived (when the warehouse could first know it). Customers are today's
    golden ids (customer_xref): a record that moved between customers brings its history along.
#}
{%- set tracked = var('history_customer_tracked_groups') -%}
{%- set rules = [] -%}
{%- set columns = [] -%}
{%- for r in survivorship_rules() if r.group in tracked -%}
    {%- do rules.append(r) -%}
    {%- for attribute in r.attributes -%}
        {%- do columns.append(attribute) -%}
    {%- endfor -%}
{%- endfor %}

with

xref as (

    select * from {{ ref('customer_xref') }}

),

versions as (

    select
        xref.customer_id,
        identity_versions.*
    from {{ ref('int_customer_identity_versions') }} as identity_versions
    inner join xref
        on identity_versions.source_system = xref.source_system
        and identity_versions.source_id = xref.source_id
    where identity_versions.updated_at is not null

),

-- the moments at which one of the customer's records changed in its source
changes as (

    select distinct
        customer_id,
        updated_at as changed_at
    from versions

),

-- each record of the customer as it stood at each moment: its newest version not after it
-- (two versions with the same updated_at: the later load wins)
records_at as (

    select *
    from (
        select
            changes.changed_at,
            versions.*,
            row_number() over (
                partition by changes.customer_id, changes.changed_at, versions.source_system, versions.source_id
                order by versions.updated_at desc, versions._loaded_at desc
            ) as version_rank
        from changes
        inner join versions
            on changes.customer_id = versions.customer_id
            and versions.updated_at <= changes.changed_at
    ) as ranked
    where version_rank = 1

),

moments as (

    select
        customer_id,
        changed_at,
        max(_load_date) as known_from_load_date
    from records_at
    group by customer_id, changed_at

),
{% for r in rules %}
{{ r.group }}_winner as (

    select
        customer_id,
        changed_at,
        {%- for attribute in r.attributes %}
        {{ attribute }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            records_at.*,
            row_number() over (
                partition by customer_id, changed_at
                order by {{ survivor_order(r) }}
            ) as survivor_rank
        from records_at
        where {{ r.attributes[0] }} is not null
    ) as ranked
    where survivor_rank = 1

),
{% endfor %}
states as (

    select
        moments.customer_id,
        moments.changed_at,
        moments.known_from_load_date,
        {%- for r in rules %}
        {%- for attribute in r.attributes %}
        {{ r.group }}_winner.{{ attribute }},
        {%- endfor %}
        {%- endfor %}
        lag(moments.changed_at) over (partition by moments.customer_id order by moments.changed_at) as previous_changed_at
    from moments
    {%- for r in rules %}
    left join {{ r.group }}_winner
        on moments.customer_id = {{ r.group }}_winner.customer_id
        and moments.changed_at = {{ r.group }}_winner.changed_at
    {%- endfor %}

),

previous as (

    select
        states.*,
        {%- for column in columns %}
        lag({{ column }}) over (partition by customer_id order by changed_at) as previous_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from states

),

-- a row starts where a tracked value differs from the previous moment's
flagged as (

    select
        previous.*,
        coalesce(previous_changed_at is null
            {%- for column in columns %}
            or {{ column }} is distinct from previous_{{ column }}
            {%- endfor %}, false) as starts_version
    from previous

),

versioned as (

    select
        customer_id,
        changed_at as valid_from,
        lead(changed_at) over (partition by customer_id order by changed_at) as valid_to,
        known_from_load_date,
        {%- for column in columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from flagged
    where starts_version

),

final as (

    select
        {{ surrogate_key(['customer_id', 'valid_from']) }} as customer_history_id,
        customer_id,
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        valid_from,
        valid_to,
        valid_to is null as is_current,
        known_from_load_date
    from versioned

)

select * from final
