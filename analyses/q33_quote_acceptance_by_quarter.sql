-- What share of the quotes sent each quarter were accepted, and at what average discount?
-- (quarter of the sent date; acceptance = accepted quotes / quotes sent)
select
    cast(date_trunc('quarter', sent_date) as date) as quarter_start,
    count(*) as quotes_sent,
    count(*) filter (where is_accepted) as quotes_accepted,
    round(count(*) filter (where is_accepted) * 1.0 / count(*), 4) as acceptance_rate,
    round(avg(discount_percent), 2) as avg_discount_percent,
    round(avg(discount_percent) filter (where is_accepted), 2) as avg_accepted_discount_percent,
    sum(quoted_amount) filter (where is_accepted) as accepted_amount
from {{ ref('fct_sales_quotes') }}
group by 1
order by 1
