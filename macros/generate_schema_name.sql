{#
    Schemas are exactly the layer names (staging, silver, gold, quality, history), not dbt's
    default "<target schema>_<custom schema>", because analysts and BI tools address them by name.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
