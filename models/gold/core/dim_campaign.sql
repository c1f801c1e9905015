-- One row per marketing campaign, plus the unknown member.

with

campaigns as (

    select * from {{ ref('stg_marketing__campaigns') }}

)

select
    {{ surrogate_key(['campaign_id']) }} as campaign_key,
    campaign_id,
    campaign_name,
    campaign_type,
    channel as channel_code,
    subject_line,
    audience_segment,
    send_date,
    cast(budget as decimal(14, 2)) as budget
from campaigns

union all

select
    {{ unknown_member_key() }} as campaign_key,
    'unknown' as campaign_id,
    'Unknown campaign' as campaign_name,
    'Unknown' as campaign_type,
    'unknown' as channel_code,
    cast(null as varchar) as subject_line,
    cast(null as varchar) as audience_segment,
    cast(null as date) as send_date,
    cast(null as decimal(14, 2)) as budget
