{#
    Every dimension has one explicit "unknown" member, and facts point at it when a key is
    missing or not found, so an inner join from a fact to a dimension never drops rows and BI
    tools show "Unknown" instead of a blank. Its key and its date are the vars unknown_member_key
    and unknown_member_date (dbt_project.yml); the date must equal
    engagement_lake.config.UNKNOWN_MEMBER_DATE, which a Python test checks.
#}
{% macro unknown_member_key() -%}
    '{{ var("unknown_member_key") }}'
{%- endmacro %}

{#- The unknown member's date as a SQL literal of the given type (date or timestamp). -#}
{% macro unknown_member_date(data_type='date') -%}
    cast('{{ var("unknown_member_date") }}' as {{ data_type }})
{%- endmacro %}
