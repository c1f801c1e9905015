{#
    The "as of" date of the lake: the `as_of_date` var when given (YYYY-MM-DD), otherwise the
    newest load date of the relation passed in. Never the wall clock, so a rebuild of the same
    data gives the same answer on any day.
#}
{% macro as_of_date(relation) -%}
    {%- set fixed = var('as_of_date', none) -%}
    {%- if fixed -%}
        cast('{{ fixed }}' as date)
    {%- else -%}
        (select max(cast(_loaded_at as date)) from {{ relation }})
    {%- endif -%}
{%- endmacro %}
