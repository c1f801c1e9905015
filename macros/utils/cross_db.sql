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

{#
    True when `lowered_text` (a text column already lower-cased) contains `word` (a lower-case
    word or phrase column) as whole words. The pattern is a column, so the engine compiles a
    regular expression for every pair it tests; a plain substring test first (true whenever the
    whole-word match is) leaves the regular expression to the few pairs that can match: the same
    result, an order of magnitude faster on a join of every text with every keyword. The caller
    lower-cases each text once, before the join: lowering it here would lower it once per
    keyword (a third of fct_sentiment_drivers' time).
#}
{% macro contains_whole_word(lowered_text, word) -%}
    {{ return(adapter.dispatch('contains_whole_word', 'engagement_lake')(lowered_text, word)) }}
{%- endmacro %}
{% macro default__contains_whole_word(lowered_text, word) -%}
    (instr({{ lowered_text }}, {{ word }}) > 0 and {{ lowered_text }} rlike concat('\\b', {{ word }}, '\\b'))
{%- endmacro %}
{% macro duckdb__contains_whole_word(lowered_text, word) -%}
    (contains({{ lowered_text }}, {{ word }}) and regexp_matches({{ lowered_text }}, '\b' || {{ word }} || '\b'))
{%- endmacro %}

{# The ISO 8601 week-numbering year: 2027-01-01 is in week 53 of ISO year 2026. #}
{% macro iso_year(column) -%}
    {{ return(adapter.dispatch('iso_year', 'engagement_lake')(column)) }}
{%- endmacro %}
{% macro default__iso_year(column) -%} extract(yearofweek from {{ column }}) {%- endmacro %}
{% macro duckdb__iso_year(column) -%} extract(isoyear from {{ column }}) {%- endmacro %}

{# True when `text` begins with `prefix` (both expressions). #}
{% macro starts_with(text, prefix) -%}
    {{ return(adapter.dispatch('starts_with', 'engagement_lake')(text, prefix)) }}
{%- endmacro %}
{% macro default__starts_with(text, prefix) -%} startswith({{ text }}, {{ prefix }}) {%- endmacro %}
{% macro duckdb__starts_with(text, prefix) -%} starts_with({{ text }}, {{ prefix }}) {%- endmacro %}

{# True when the whole of `text` matches the regular expression `pattern` (a Python string,
   without backslashes, written into the SQL as a literal). #}
{% macro regexp_full_match(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'engagement_lake')(text, pattern)) }}
{%- endmacro %}
{% macro default__regexp_full_match(text, pattern) -%}
    {{ text }} rlike '^(?:{{ pattern }})$'
{%- endmacro %}
{% macro duckdb__regexp_full_match(text, pattern) -%}
    regexp_full_match({{ text }}, '{{ pattern }}')
{%- endmacro %}

{# `text` without the leading run of `characters` (a literal: ltrim('007', '0') = '7'). #}
{% macro trim_leading(text, characters) -%}
    {{ return(adapter.dispatch('trim_leading', 'engagement_lake')(text, characters)) }}
{%- endmacro %}
{% macro default__trim_leading(text, characters) -%}
    trim(leading '{{ characters }}' from {{ text }})
{%- endmacro %}
{% macro duckdb__trim_leading(text, characters) -%}
    ltrim({{ text }}, '{{ characters }}')
{%- endmacro %}

