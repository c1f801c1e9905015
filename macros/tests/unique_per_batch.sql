{#
    A bronze key may repeat across load batches (a newer version, a replay), so plain `unique`
    cannot hold on a source. Within one batch, though, a source sends each key once.
#}
{% test unique_per_batch(model, column_name, batch_column='_batch_id') %}

select
    {{ column_name }},
    {{ batch_column }},
    count(*) as n_rows
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}, {{ batch_column }}
having count(*) > 1

{% endtest %}
