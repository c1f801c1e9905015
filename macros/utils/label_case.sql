{#
    A code as a gold label: its first letter capitalised ('negative' -> 'Negative'), the casing
    every label in gold follows (docs/architecture.md, "Conventions in gold"). For codes that
    silver keeps in lower case because rules compare them (silver.sentiment_unified's labels).
#}
{% macro label_case(column) -%}
    upper(substring({{ column }}, 1, 1)) || substring({{ column }}, 2)
{%- endmacro %}
