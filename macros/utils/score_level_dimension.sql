{#
    The body of a score-level dimension (dim_health_level, dim_engagement_level): one row per
    level of a levels seed (code column named after the dimension, label, min_score, description)
    with its display order (highest score first), plus the unknown member. The model names the
    seed and its code column; the columns come out as <code>, <code>_label, min_score,
    sort_order, description, the order the model's contract declares.
#}
{% macro score_level_dimension(levels_seed, code_column) -%}
with

levels as (

    select * from {{ ref(levels_seed) }}

),

final as (

    select
        {{ code_column }},
        label as {{ code_column }}_label,
        cast(min_score as double) as min_score,
        cast(row_number() over (order by min_score desc) as integer) as sort_order,
        description
    from levels
    union all
    {{ unknown_member_row() }}

)

select * from final
{%- endmacro %}
