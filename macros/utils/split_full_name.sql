{#
    Sources that keep a person's name in one field (support requesters, loyalty members) are
    split on the last space: "Mary Ann Smith" -> first "Mary Ann", last "Smith". A single word is
    a last name, the field the contracts require. Regex escapes differ: Spark string literals
    unescape backslashes, DuckDB's do not.
#}
{% macro first_name_of(full_name) -%}
    {{ return(adapter.dispatch('first_name_of', 'engagement_lake')(full_name)) }}
{%- endmacro %}

{% macro default__first_name_of(full_name) -%}
    nullif(regexp_extract(trim({{ full_name }}), '^(.*)\\s+\\S+$', 1), '')
{%- endmacro %}

{% macro duckdb__first_name_of(full_name) -%}
    nullif(regexp_extract(trim({{ full_name }}), '^(.*)\s+\S+$', 1), '')
{%- endmacro %}

{% macro last_name_of(full_name) -%}
    {{ return(adapter.dispatch('last_name_of', 'engagement_lake')(full_name)) }}
{%- endmacro %}

{% macro default__last_name_of(full_name) -%}
    nullif(regexp_extract(trim({{ full_name }}), '(\\S+)$', 1), '')
{%- endmacro %}

{% macro duckdb__last_name_of(full_name) -%}
    nullif(regexp_extract(trim({{ full_name }}), '(\S+)$', 1), '')
{%- endmacro %}
