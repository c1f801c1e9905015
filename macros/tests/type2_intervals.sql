{# A type-2 table is well formed: per key, valid_from < valid_to, each version ends where the
   next begins (no gap, no overlap), and exactly the last version is open (valid_to null). #}
{% test type2_intervals(model, key, valid_from='valid_from', valid_to='valid_to') %}

select *
from (
    select
        {{ key }},
        {{ valid_from }},
        {{ valid_to }},
        lead({{ valid_from }}) over (partition by {{ key }} order by {{ valid_from }}) as next_valid_from
    from {{ model }}
) as versions
where ({{ valid_to }} is not null and {{ valid_to }} <= {{ valid_from }})
    or {{ valid_to }} is distinct from next_valid_from

{% endtest %}
