{#
    The one surrogate-key macro: md5 of the '|'-joined, null-safe text of the given columns.
    Deterministic, so a key is the same in every rebuild of the same data and on every adapter.
#}
{% macro surrogate_key(columns) -%}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as {{ dbt.type_string() }}), '_null_')
        {%- if not loop.last %} || '|' || {%- endif %}
        {%- endfor %}
    )
{%- endmacro %}
