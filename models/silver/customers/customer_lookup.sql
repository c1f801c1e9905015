-- One row per (lookup key, golden customer, way it matched): every spelling of a customer id a
-- person may type, lower-cased, with the golden customer it leads to. The one resolution rule
-- of the project (docs/master-data.md, "Looking up a customer"): a golden id, current or
-- absorbed by a merge, wins over everything; otherwise the source ids of the systems in
-- seeds/mdm/customer_id_systems.csv, written as the system stores them (C0000042), with the
-- system in front (shop:C0000042, crm_contact:003…, crm:003…) or as the bare number of a
-- prefixed id (42 for C0000042, L00000042 and support requester 42 alike). Callers keep the
-- rows where is_candidate; a key resolves when candidate_count is 1 and is ambiguous otherwise.

with

systems as (

    select * from {{ ref('customer_id_systems') }}

),

xref as (

    select * from {{ ref('customer_xref') }}

),

golden as (

    select customer_id from {{ ref('customer_golden') }}

),

redirects as (

    select * from {{ ref('customer_id_redirects') }}

),

source_records as (

    select
        xref.source_system,
        xref.source_id,
        xref.customer_id,
        systems.system_alias,
        systems.lookup_order,
        coalesce(systems.id_prefix, '') as id_prefix
    from xref
    inner join systems
        on xref.source_system = systems.source_system

),

numbered as (

    select
        *,
        case
            when {{ starts_with('source_id', 'id_prefix') }}
                and {{ regexp_full_match('substr(source_id, length(id_prefix) + 1)', '[0-9]+') }}
                then coalesce(
                    nullif({{ trim_leading('substr(source_id, length(id_prefix) + 1)', '0') }}, ''), '0'
                )
        end as id_number
    from source_records

),

source_keys as (

    {%- set spellings = [
        ('source_id', 'source_id', 'true'),
        ('system_id', "source_system || ':' || source_id", 'true'),
        ('system_id', "system_alias || ':' || source_id", 'system_alias <> source_system'),
        ('system_number', "system_alias || ':' || id_number", 'id_number <> source_id'),
        ('number', 'id_number', 'id_number <> source_id'),
    ] %}
    {%- for kind, key, keep in spellings %}

    select
        {{ key }} as lookup_key,
        '{{ kind }}' as match_kind,
        customer_id,
        source_system,
        source_id,
        lookup_order
    from numbered
    where {{ keep }}{% if 'id_number' in key %} and id_number is not null{% endif %}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

golden_keys as (

    select
        customer_id as lookup_key,
        'golden_id' as match_kind,
        customer_id,
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as source_id,
        0 as lookup_order
    from golden

    union all

    select
        absorbed_customer_id as lookup_key,
        'absorbed_golden_id' as match_kind,
        survivor_customer_id as customer_id,
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as source_id,
        0 as lookup_order
    from redirects

),

keys as (

    select * from golden_keys

    union all

    select * from source_keys

),

ranked as (

    select
        lower(lookup_key) as lookup_key,
        match_kind,
        customer_id,
        source_system,
        source_id,
        lookup_order
    from keys

),

-- per key, in one aggregation (two windows over a million keys took twice as long): whether a
-- golden id spells it, and how many customers each reading of it leads to
key_stats as (

    select
        lookup_key,
        min(lookup_order) = 0 as is_golden_key,
        count(distinct customer_id) filter (where lookup_order = 0) as golden_customer_count,
        count(distinct customer_id) as customer_count
    from ranked
    group by lookup_key

),

final as (

    select
        ranked.*,
        -- golden ids first: a source id spelled like a golden id never competes with it
        ranked.lookup_order = 0 or not key_stats.is_golden_key as is_candidate,
        case
            when key_stats.is_golden_key then key_stats.golden_customer_count
            else key_stats.customer_count
        end as candidate_count
    from ranked
    inner join key_stats
        on ranked.lookup_key = key_stats.lookup_key

)

select * from final
