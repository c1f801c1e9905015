{#
    A low rating: 1 or 2 stars out of 5. The one definition of the threshold: fct_product_reviews
    computes is_low_rating with it, and gold models read that flag; models upstream of gold
    (silver features) or that read the staged reviews call the macro.
#}
{% macro is_low_rating(rating_column) -%}
    {{ rating_column }} <= 2
{%- endmacro %}
