-- What are the net scores of the support surveys (NPS, CSAT and CES), with the shares of
-- favourable and unfavourable answers?
-- (the bands are seed survey_score_bands: for NPS, promoters 9-10 minus detractors 0-6)
select
    survey_type,
    count(*) as responses,
    round(avg(score), 2) as average_score,
    round(avg(case when is_favourable then 1.0 else 0.0 end), 4) as favourable_share,
    round(avg(case when is_unfavourable then 1.0 else 0.0 end), 4) as unfavourable_share,
    round(100 * avg(net_score_weight), 1) as net_score
from {{ ref('fct_survey_responses') }}
group by survey_type
order by survey_type
