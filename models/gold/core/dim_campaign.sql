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

{{ unknown_member_row() }}
