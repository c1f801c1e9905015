{#
    The key of a dimension built with surrogate_key([natural key]) (dim_customer, dim_product,
    dim_channel, dim_campaign, …) for a fact's natural key, or the dimension's unknown member
    when the fact has none. One definition for every fact.
#}
{% macro member_key(natural_key_column) -%}
    case when {{ natural_key_column }} is null then {{ unknown_member_key() }}
        else {{ surrogate_key([natural_key_column]) }} end
{%- endmacro %}
