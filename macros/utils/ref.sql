{#
    References without the catalog name. dbt-duckdb renders "catalog"."schema"."table", and DuckDB
    stores a view's SQL as written, so every view would be bound to the warehouse file's name: a
    copied or renamed warehouse (catalog "engagement_copy") could no longer read its own views.
    Dropping the database part keeps each reference inside whichever file holds it.
#}
{% macro ref() -%}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if relation is not string and relation.include is defined -%}
        {{ return(relation.include(database=False)) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
