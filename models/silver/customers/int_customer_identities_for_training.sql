-- One row per source identity record known on the matcher's training date, as it stood then
-- (its newest version loaded by that date): what customer_match_model learns m-probabilities
-- from. The training date is the last load date before the period of the newest load date
-- began (var('matcher_retraining_period')), or the first load date when there is none, so it
-- moves once a period and every daily build in between trains on the same records. Versions
-- come from the same union as the history (int_customer_identity_versions); full names are the
-- records' current ones.

{%- set period = var('matcher_retraining_period') %}

with

versions as (

    select * from {{ ref('int_customer_identity_versions') }}

),

load_dates as (

    select
        min(_load_date) as first_load_date,
        max(_load_date) as newest_load_date
    from versions

),

training_date as (

    select
        coalesce(
            max(
                case
                    when versions._load_date < cast({{ dbt.date_trunc(period, 'load_dates.newest_load_date') }} as date)
                        then versions._load_date
                end
            ),
            min(load_dates.first_load_date)
        ) as trained_through
    from versions
    cross join load_dates

),

-- each record's newest version loaded by the training date (ties, versions of one load:
-- the later update, then every value, so the pick never depends on row order)
ranked as (

    select
        versions.*,
        training_date.trained_through,
        row_number() over (
            partition by versions.source_system, versions.source_id
            order by
                versions._loaded_at desc,
                versions.updated_at desc nulls last,
                versions.first_name nulls last,
                versions.last_name nulls last,
                versions.email nulls last,
                versions.phone nulls last,
                versions.birth_date nulls last,
                versions.address_line1 nulls last,
                versions.city nulls last,
                versions.state nulls last,
                versions.postal_code nulls last
        ) as version_rank
    from versions
    cross join training_date
    where versions._load_date <= training_date.trained_through

)

select
    source_system,
    source_id,
    first_name,
    last_name,
    email,
    phone,
    birth_date,
    address_line1,
    city,
    state,
    postal_code,
    trained_through
from ranked
where version_rank = 1
