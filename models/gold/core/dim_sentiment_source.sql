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

select
    {{ unknown_member_key() }} as sentiment_source_key,
    'unknown' as source_type,
    'Unknown' as source_name,
    'unknown' as channel_code,
    false as is_solicited,
    'Text of unknown origin' as description
