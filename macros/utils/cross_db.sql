{# Expressions whose spelling differs between DuckDB and Spark, dispatched per adapter. #}

{% macro iso_day_of_week(column) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'engagement_lake')(column)) }}
{%- endmacro %}
{% macro default__iso_day_of_week(column) -%} extract(dayofweek_iso from {{ column }}) {%- endmacro %}
{% macro duckdb__iso_day_of_week(column) -%} extract(isodow from {{ column }}) {%- endmacro %}

{# strftime-style pattern on DuckDB; the equivalent Java pattern on Spark. #}
{% macro format_date(column, strftime_pattern, java_pattern) -%}
    {{ return(adapter.dispatch('format_date', 'engagement_lake')(column, strftime_pattern, java_pattern)) }}
{%- endmacro %}
{% macro default__format_date(column, strftime_pattern, java_pattern) -%}
    date_format({{ column }}, '{{ java_pattern }}')
{%- endmacro %}
{% macro duckdb__format_date(column, strftime_pattern, java_pattern) -%}
    strftime({{ column }}, '{{ strftime_pattern }}')
{%- endmacro %}

{# True when `text` contains `word` (a lower-case word or phrase column) as whole words. #}
{% macro contains_whole_word(text, word) -%}
    {{ return(adapter.dispatch('contains_whole_word', 'engagement_lake')(text, word)) }}
{%- endmacro %}
{% macro default__contains_whole_word(text, word) -%}
    lower({{ text }}) rlike concat('\\b', {{ word }}, '\\b')
{%- endmacro %}
{% macro duckdb__contains_whole_word(text, word) -%}
    regexp_matches(lower({{ text }}), '\b' || {{ word }} || '\b')
{%- endmacro %}

{# The ISO 8601 week-numbering year: 2027-01-01 is in week 53 of ISO year 2026. #}
{% macro iso_year(column) -%}
    {{ return(adapter.dispatch('iso_year', 'engagement_lake')(column)) }}
{%- endmacro %}
{% macro default__iso_year(column) -%} extract(yearofweek from {{ column }}) {%- endmacro %}
{% macro duckdb__iso_year(column) -%} extract(isoyear from {{ column }}) {%- endmacro %}
