-- One row per open opportunity per day (silver.sales_pipeline_snapshot): the stage, amount,
-- probability and weighted amount the opportunity ended the day with, keyed to the customer, rep,
-- territory, lead source and stage, for pipeline-by-stage trends.

with

snapshots as (

    select * from {{ ref('sales_pipeline_snapshot') }}

),

customers as (

    select customer_id from {{ ref('customer_golden') }}

),

sales_reps as (

    select * from {{ ref('dim_sales_rep') }}

),

lead_sources as (

    select * from {{ ref('dim_lead_source') }}

),

sales_stages as (

    select * from {{ ref('dim_sales_stage') }}

),

final as (

    select
        ---------- ids
        snapshots.pipeline_snapshot_id,
        snapshots.opportunity_id,
        snapshots.sales_rep_id,

        ---------- keys
        snapshots.snapshot_date,
        {{ member_key('customers.customer_id') }} as customer_key,
        {{ resolve_key('sales_reps.sales_rep_key') }} as sales_rep_key,
        {{ resolve_key('sales_reps.sales_territory_key') }} as sales_territory_key,
        {{ resolve_key('lead_sources.lead_source_key') }} as lead_source_key,
        {{ resolve_key('sales_stages.sales_stage_key') }} as sales_stage_key,

        ---------- attributes
        snapshots.stage as stage_name,
        snapshots.opportunity_type,
        snapshots.lead_source,

        ---------- amounts
        cast(snapshots.amount as decimal(14, 2)) as amount,
        cast(snapshots.probability as integer) as probability,
        cast(snapshots.weighted_amount as decimal(14, 2)) as weighted_amount,

        ---------- durations
        cast(snapshots.days_in_stage as integer) as days_in_stage
    from snapshots
    left join customers
        on snapshots.customer_id = customers.customer_id
    left join sales_reps
        on snapshots.sales_rep_id = sales_reps.sales_rep_id
    left join lead_sources
        on snapshots.lead_source = lead_sources.lead_source
    left join sales_stages
        on snapshots.stage = sales_stages.stage_name

)

select * from final
