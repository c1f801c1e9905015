{#- The dim_channel code of a support desk channel ('Email' -> email, 'In-Store' -> in_store):
    tickets and the texts written on them are filed under the channel the ticket came in by. -#}
{% macro support_channel_code(column) -%}
    replace(lower({{ column }}), '-', '_')
{%- endmacro %}
