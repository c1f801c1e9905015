-- One row per quote (proposal) for a CRM opportunity, drafts not yet sent included (their sent
-- and expiration dates are null): amount, discount, status, validity and
-- the outcome of its opportunity, keyed to the opportunity's customer and sales rep and to the
-- product quoted. A quote still 'Sent' whose expiration date lies before the as-of date is past
-- expiry (the CRM has not closed it yet).

with

quotes as (

    select * from {{ ref('stg_crm__quotes') }}

),

opportunities as (

    select
        opportunity_id,
        customer_key,
        sales_rep_key,
        is_closed,
        is_won
    from {{ ref('fct_sales_opportunities') }}

),

products as (

    select product_id from {{ ref('dim_product') }}

),

quotes_sequenced as (

    select
        quotes.*,
        row_number() over (
            partition by quotes.opportunity_id
            order by quotes.sent_date, quotes.quote_id
        ) as quote_sequence,
        count(*) over (partition by quotes.opportunity_id) as opportunity_quote_count
    from quotes

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['quotes_sequenced.quote_id']) }} as quote_key,
        {{ resolve_key('opportunities.customer_key') }} as customer_key,
        {{ resolve_key('opportunities.sales_rep_key') }} as sales_rep_key,
        {{ member_key('products.product_id') }} as product_key,
        quotes_sequenced.sent_date,
        quotes_sequenced.expiration_date,

        ---------- ids
        quotes_sequenced.quote_id,
        quotes_sequenced.opportunity_id,
        quotes_sequenced.product_id,

        ---------- attributes
        quotes_sequenced.status as quote_status,

        ---------- measures
        cast(quotes_sequenced.quoted_amount as decimal(14, 2)) as quoted_amount,
        cast(quotes_sequenced.discount_percent as double) as discount_percent,
        cast({{ dbt.datediff('quotes_sequenced.sent_date', 'quotes_sequenced.expiration_date', 'day') }}
            as integer) as validity_days,
        cast(quotes_sequenced.quote_sequence as integer) as quote_sequence,

        ---------- flags
        quotes_sequenced.status = 'Accepted' as is_accepted,
        quotes_sequenced.status = 'Sent'
            and quotes_sequenced.expiration_date < {{ as_of_date(ref('stg_crm__quotes')) }}
            as is_past_expiry,
        quotes_sequenced.quote_sequence = quotes_sequenced.opportunity_quote_count as is_latest_quote,
        coalesce(opportunities.is_won, false) as is_opportunity_won,
        coalesce(opportunities.is_closed, false) as is_opportunity_closed,

        ---------- lineage
        cast(quotes_sequenced.updated_at as timestamp) as updated_at
    from quotes_sequenced
    left join opportunities
        on quotes_sequenced.opportunity_id = opportunities.opportunity_id
    left join products
        on quotes_sequenced.product_id = products.product_id

)

select * from final
