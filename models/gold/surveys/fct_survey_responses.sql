-- One row per survey response (newest version) of the support desk's NPS, CSAT and CES surveys:
-- the score, its band (promoter / passive / detractor for NPS; satisfied … for CSAT; low … high
-- effort for CES) and the band's net-score weight from seed survey_score_bands, so that
-- 100 × avg(net_score_weight) over a survey type is its net score (the NPS for NPS). The
-- verbatim stays in staging: it is free text that may name people.

with

responses as (

    select * from {{ ref('stg_support__surveys') }}

),

bands as (

    select * from {{ ref('survey_score_bands') }}

),

tickets as (

    select ticket_id, channel from {{ ref('stg_support__tickets') }}

),

support_xref as (

    select * from {{ ref('int_support_customer_xref') }}

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['responses.survey_response_id']) }} as survey_response_key,
        responses.survey_response_id,
        {{ member_key('support_xref.customer_id') }} as customer_key,
        {{ member_key(support_channel_code('tickets.channel')) }} as channel_key,
        cast(responses.ticket_id as bigint) as ticket_id,
        cast(responses.responded_at as date) as responded_date,

        ---------- attributes
        responses.survey_type,
        coalesce(bands.score_band, 'out_of_scale') as score_band,

        ---------- measures
        cast(responses.score as integer) as score,
        cast(bands.net_score_weight as integer) as net_score_weight,

        ---------- flags
        bands.net_score_weight = 1 as is_favourable,
        bands.net_score_weight = -1 as is_unfavourable,
        responses.ticket_id is not null as is_ticket_survey,

        ---------- timestamps
        cast(responses.responded_at as timestamp) as responded_at
    from responses
    left join bands
        on responses.survey_type = bands.survey_type
        and responses.score between bands.min_score and bands.max_score
    left join tickets
        on responses.ticket_id = tickets.ticket_id
    left join support_xref
        on cast(responses.requester_id as {{ dbt.type_string() }}) = support_xref.support_requester_id

)

select * from final
