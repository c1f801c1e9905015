{#
    A low rating: at or below var('low_review_max_rating') stars. The one definition: fct_product_reviews
    computes is_low_rating with it, and gold models read that flag; models upstream of gold
    (silver features) or that read the staged reviews call the macro.
#}
{% macro is_low_rating(rating_column) -%}
    {{ rating_column }} <= {{ var('low_review_max_rating') }}
{%- endmacro %}
