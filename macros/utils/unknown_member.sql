{#
    Every dimension has one explicit "unknown" member, and facts point at it when a key is
    missing or not found, so an inner join from a fact to a dimension never drops rows and BI
    tools show "Unknown" instead of a blank.
#}
{% macro unknown_member_key() -%}
    '00000000000000000000000000000000'
{%- endmacro %}
