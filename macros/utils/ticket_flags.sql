{#
    An open ticket: its status is one of var('open_ticket_statuses') (opened, being worked on, or
    waiting on the customer). The one definition: fct_support_tickets computes is_open with it,
    and models upstream of gold (silver features) call the macro.
#}
{% macro is_open_ticket(status_column) -%}
    {{ status_column }} in (
        {%- for status in var('open_ticket_statuses') -%}
            '{{ status }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    )
{%- endmacro %}
