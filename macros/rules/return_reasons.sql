{#
    The return reasons that mean the size or cut was wrong (seeds/gold/return_reasons.csv,
    is_fit_related), as a subquery for `reason in (...)`: the one definition of a fit return,
    used by the order-line fact, the customer features and the product's fit return rate.
#}
{% macro fit_return_reasons() -%}
    select return_reason from {{ ref('return_reasons') }} where is_fit_related
{%- endmacro %}
