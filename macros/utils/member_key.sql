{#
    The one rule for a fact's dimension key: a missing key resolves to the dimension's unknown
    member, so an inner join from a fact to a dimension never drops rows. `key` is the key as the
    fact found it, usually the key column of a left-joined dimension
    (resolve_key('sales_reps.sales_rep_key')), null when the dimension has no matching row.
#}
{% macro resolve_key(key) -%}
    coalesce({{ key }}, {{ unknown_member_key() }})
{%- endmacro %}

{#
    The key of a dimension built with surrogate_key([natural key]) (dim_customer, dim_product,
    dim_channel, dim_campaign, …) for a fact's natural key, without joining the dimension:
    resolve_key of the natural key's surrogate key, so a fact with no natural key gets the
    unknown member.
#}
{% macro member_key(natural_key_column) -%}
    {{ resolve_key('case when ' ~ natural_key_column ~ ' is not null then '
        ~ surrogate_key([natural_key_column]) ~ ' end') }}
{%- endmacro %}
