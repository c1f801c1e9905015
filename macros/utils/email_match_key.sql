{#
    The e-mail as a matching key: lower-case, plus-tag removed ("Ann+promo@x.com" -> "ann@x.com").
    Staging keeps what the person typed; only matching compares on this key.
#}
{% macro email_match_key(column) -%}
    {{ return(adapter.dispatch('email_match_key', 'engagement_lake')(column)) }}
{%- endmacro %}

{% macro default__email_match_key(column) -%}
    regexp_replace(lower(trim({{ column }})), '\\+[^@]*@', '@')
{%- endmacro %}

{% macro duckdb__email_match_key(column) -%}
    regexp_replace(lower(trim({{ column }})), '\+[^@]*@', '@')
{%- endmacro %}
