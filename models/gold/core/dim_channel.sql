-- One row per interaction channel (seeds/gold/channels.csv), plus the unknown member.

with

channels as (

    select * from {{ ref('channels') }}

)

select
    {{ surrogate_key(['channel_code']) }} as channel_key,
    channel_code,
    channel_name,
    channel_group,
    is_digital
from channels

union all

select
    {{ unknown_member_key() }} as channel_key,
    'unknown' as channel_code,
    'Unknown' as channel_name,
    'Unknown' as channel_group,
    false as is_digital
