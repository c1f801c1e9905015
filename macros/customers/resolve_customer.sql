{#
    The golden customers a typed id may mean, for SQL callers (the cookbook): the candidate rows
    of silver.customer_lookup for that text, in lookup order. The rule itself lives in that model
    (golden id first, then source systems in the order of seeds/mdm/customer_id_systems.csv);
    this macro only filters it, as engagement_lake.mdm.lookup does for the CLI. One row: the id
    resolves (matched_system says where); several: it is ambiguous, and each row is a candidate.
#}
{% macro resolve_customer(customer) -%}
    select
        customer_id,
        match_kind,
        source_system as matched_system,
        source_id as matched_id,
        lookup_order,
        candidate_count
    from {{ ref('customer_lookup') }}
    where is_candidate and lookup_key = lower(trim('{{ customer | replace("'", "''") }}'))
{%- endmacro %}
