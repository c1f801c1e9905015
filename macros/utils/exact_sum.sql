{#
    Order-independent sums and means of floating-point columns, written once.

    DuckDB adds a double column in parallel, each thread a share of the rows in whatever order
    they arrive, so a plain sum(x) or avg(x) of a double may differ in its last bit from one
    build to the next. These macros add the values as DECIMAL(38, exact_sum_scale) instead:
    each value is rounded once, at that declared precision, then added exactly (integers under
    the hood), so the total is the same whatever the order; the result is returned as a double.
    Columns already DECIMAL or integer need none of this: DuckDB sums them exactly. The scale
    bounds what survives: a value far below 10^-exact_sum_scale adds as 0, so these macros suit
    scores, shares, means and weights, not quantities that live at that scale.

    exact_sum(expression, over=none)  sum of a double expression; `over` (the window's
                                       partition/order clause, without "over") for a window sum
    exact_avg(expression, over=none)  mean of a double expression (nulls ignored, as avg)
    exact_decimal(expression)          the value as these sums add it: divide it by exact_sum
                                       for shares that add up exactly (equal values, equal shares);
                                       `narrow=true` for values below 10^6: DECIMAL(18, scale),
                                       which a sum adds as 64-bit integers (the same total, faster)
    exact_mean(total, count)           a mean from an exact total and its count (below)
#}
{% macro exact_decimal(expression, narrow=false) -%}
    cast({{ expression }} as decimal({{ 18 if narrow else 38 }}, {{ var('exact_sum_scale') }}))
{%- endmacro %}

{% macro exact_sum(expression, over=none) -%}
    cast(sum({{ exact_decimal(expression) }}){% if over is not none %} over ({{ over }}){% endif %} as double)
{%- endmacro %}

{% macro exact_avg(expression, over=none) -%}
    cast(avg({{ exact_decimal(expression) }}){% if over is not none %} over ({{ over }}){% endif %} as double)
{%- endmacro %}

{#- A mean from its total and count, both summed exactly (an integer column, or exact_decimal
    values): the same double however the total was accumulated, whole or as running totals over
    parts (int_customer_metrics_history), which avg() does not promise. Null when count is 0. -#}
{% macro exact_mean(total, count) -%}
    cast({{ total }} as double) / nullif({{ count }}, 0)
{%- endmacro %}
