-- One row per golden lead (duplicate captures merged): the funnel lead -> opportunity -> customer.
-- A lead converts to an opportunity when an opportunity was created from it (the opportunity's
-- golden lead, or the lead's converted opportunity), and to a customer when one of its
-- opportunities was closed won; each step has its timestamp and the days it took.

with

leads as (

    select * from {{ ref('lead_golden') }}

),

opportunities as (

    select * from {{ ref('fct_sales_opportunities') }}

),

customers as (

    select customer_id from {{ ref('customer_golden') }}

),

campaigns as (

    select campaign_id from {{ ref('stg_marketing__campaigns') }}

),

sales_reps as (

    select * from {{ ref('dim_sales_rep') }}

),

lead_sources as (

    select * from {{ ref('dim_lead_source') }}

),

lead_opportunities as (

    -- an opportunity belongs to a lead through its (golden) lead, or through the lead's
    -- converted-opportunity pointer; union removes the pairs both paths find
    select
        opportunities.lead_id,
        opportunities.opportunity_id
    from opportunities
    where opportunities.lead_id is not null

    union

    select
        leads.lead_id,
        opportunities.opportunity_id
    from leads
    inner join opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id

),

linked as (

    select
        lead_opportunities.lead_id,
        opportunities.opportunity_id,
        opportunities.customer_key,
        opportunities.amount,
        opportunities.won_amount,
        opportunities.is_won,
        opportunities.is_open,
        opportunities.created_at,
        opportunities.closed_at,
        opportunities.closed_date,
        row_number() over (
            partition by lead_opportunities.lead_id
            order by opportunities.created_at, opportunities.opportunity_id
        ) as opportunity_rank,
        row_number() over (
            partition by lead_opportunities.lead_id
            order by
                case when opportunities.is_won then 0 else 1 end,
                opportunities.closed_date,
                opportunities.closed_at,
                opportunities.opportunity_id
        ) as won_rank
    from lead_opportunities
    inner join opportunities
        on lead_opportunities.opportunity_id = opportunities.opportunity_id

),

funnel as (

    select
        lead_id,
        count(*) as opportunity_count,
        sum(amount) as pipeline_amount,
        sum(won_amount) as won_amount,
        max(case when is_won then 1 else 0 end) = 1 as has_won_opportunity,
        max(case when is_open then 1 else 0 end) = 1 as has_open_opportunity,
        max(case when opportunity_rank = 1 then opportunity_id end) as first_opportunity_id,
        max(case when opportunity_rank = 1 then created_at end) as first_opportunity_created_at,
        max(case when opportunity_rank = 1 then customer_key end) as first_opportunity_customer_key,
        max(case when won_rank = 1 and is_won then opportunity_id end) as won_opportunity_id,
        max(case when won_rank = 1 and is_won then customer_key end) as won_opportunity_customer_key,
        max(case when won_rank = 1 and is_won then closed_at end) as won_at,
        max(case when won_rank = 1 and is_won then closed_date end) as won_date
    from linked
    group by lead_id

),

joined as (

    select
        leads.*,
        customers.customer_id as known_customer_id,
        funnel.opportunity_count,
        funnel.pipeline_amount,
        funnel.won_amount,
        funnel.has_won_opportunity,
        funnel.has_open_opportunity,
        funnel.first_opportunity_id,
        funnel.first_opportunity_created_at,
        funnel.first_opportunity_customer_key,
        funnel.won_opportunity_id,
        funnel.won_opportunity_customer_key,
        funnel.won_at,
        funnel.won_date
    from leads
    left join funnel
        on leads.lead_id = funnel.lead_id
    left join customers
        on leads.customer_id = customers.customer_id

),

final as (

    select
        ---------- ids
        joined.lead_id,
        joined.first_opportunity_id as opportunity_id,
        joined.won_opportunity_id,
        joined.owner_id as sales_rep_id,
        joined.campaign_id,

        ---------- keys
        joined.created_date as lead_created_date,
        -- the lead's converted contact, else the customer of its won / first opportunity
        case
            when joined.known_customer_id is not null
                then {{ surrogate_key(['joined.known_customer_id']) }}
            when joined.won_opportunity_customer_key <> {{ unknown_member_key() }}
                then joined.won_opportunity_customer_key
            else {{ resolve_key('joined.first_opportunity_customer_key') }}
        end as customer_key,
        {{ resolve_key('sales_reps.sales_rep_key') }} as sales_rep_key,
        {{ resolve_key('sales_reps.sales_territory_key') }} as sales_territory_key,
        {{ resolve_key('lead_sources.lead_source_key') }} as lead_source_key,
        {{ member_key('campaigns.campaign_id') }} as campaign_key,

        ---------- attributes
        joined.lead_source,
        joined.lead_grade,
        joined.status as lead_status,
        joined.disqualification_reason,

        ---------- measures
        cast(joined.lead_score as integer) as lead_score,
        cast(joined.duplicate_count as integer) as duplicate_count,
        cast(coalesce(joined.opportunity_count, 0) as integer) as opportunity_count,
        cast(coalesce(joined.pipeline_amount, 0) as decimal(14, 2)) as pipeline_amount,
        cast(coalesce(joined.won_amount, 0) as decimal(14, 2)) as won_amount,

        ---------- flags
        joined.is_converted as is_lead_converted,
        coalesce(joined.opportunity_count, 0) > 0 as is_converted_to_opportunity,
        coalesce(joined.has_won_opportunity, false) as is_converted_to_customer,
        coalesce(joined.has_open_opportunity, false) as has_open_opportunity,
        joined.status = 'Unqualified' as is_disqualified,

        ---------- dates
        joined.converted_date as lead_converted_date,
        cast(joined.first_opportunity_created_at as date) as opportunity_created_date,
        joined.won_date as customer_converted_date,

        ---------- timestamps
        cast(joined.first_opportunity_created_at as timestamp) as opportunity_created_at,
        cast(joined.won_at as timestamp) as customer_converted_at,

        ---------- durations
        cast({{ dbt.datediff('joined.created_date', 'cast(joined.first_opportunity_created_at as date)', 'day') }} as integer)
            as days_to_opportunity,
        cast({{ dbt.datediff('joined.created_date', 'joined.won_date', 'day') }} as integer)
            as days_to_customer,

        ---------- lineage
        cast(joined.updated_at as timestamp) as updated_at
    from joined
    left join campaigns
        on joined.campaign_id = campaigns.campaign_id
    left join sales_reps
        on joined.owner_id = sales_reps.sales_rep_id
    left join lead_sources
        on joined.lead_source = lead_sources.lead_source

)

select * from final
