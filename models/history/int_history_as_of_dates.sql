-- One row per as-of date of the trend tables: every load date of the lake (the days bronze
-- received a load of shop orders or of a versioned table) up to the lake's as-of date (the
-- as_of_date var, else the newest load). A table, not ephemeral: the CLV history (a Python
-- model) reads it too, and keeps the newest date of each month.

with

loads as (

    select cast(_loaded_at as date) as load_date from {{ ref('stg_shop__orders') }}
    {%- for model in ['stg_shop__customers_versions', 'stg_crm__contacts_versions',
                      'stg_support__requesters_versions', 'stg_marketing__subscribers_versions',
                      'stg_loyalty__members_versions', 'stg_crm__opportunities_versions'] %}
    union
    select _load_date as load_date from {{ ref(model) }}
    {%- endfor %}

)

select distinct load_date as as_of_date
from loads
where load_date <= {{ as_of_date(ref('stg_shop__orders')) }}
