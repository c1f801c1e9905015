-- One row per kind of scored customer text (seeds/gold/sentiment_sources.csv), plus the unknown member.

with

sources as (

    select * from {{ ref('sentiment_sources') }}

)

select
    {{ surrogate_key(['source_type']) }} as sentiment_source_key,
    source_type,
    source_name,
    channel_code,
    is_solicited,
    description
from sources

union all

{{ unknown_member_row() }}
