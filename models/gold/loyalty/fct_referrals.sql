-- One row per customer-to-customer referral tracked in the CRM: who referred whom, the status,
-- the reward paid to the referrer and whether (and how fast) the referred person bought. Both
-- people are CRM contacts resolved to golden customers through the crosswalk; the referee is the
-- unknown member until the CRM records a contact for them (only converted referrals have one).

with

referrals as (

    select * from {{ ref('stg_crm__referrals') }}

),

contact_xref as (

    select source_id as contact_id, customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'crm_contact'

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['referrals.referral_id']) }} as referral_key,
        {{ member_key('referrer_xref.customer_id') }} as referrer_customer_key,
        {{ member_key('referee_xref.customer_id') }} as referee_customer_key,
        referrals.referral_date,
        referrals.conversion_date,

        ---------- ids
        referrals.referral_id,
        referrals.referrer_contact_id,
        referrals.referred_contact_id,

        ---------- attributes
        referrals.referral_status,

        ---------- measures
        cast(coalesce(referrals.reward_amount, 0) as decimal(14, 2)) as reward_amount,
        cast({{ dbt.datediff('referrals.referral_date', 'referrals.conversion_date', 'day') }}
            as integer) as days_to_conversion,

        ---------- flags
        referrals.referral_status = 'Converted' as is_converted,
        coalesce(referrals.reward_amount, 0) > 0 as is_rewarded
    from referrals
    left join contact_xref as referrer_xref
        on referrals.referrer_contact_id = referrer_xref.contact_id
    left join contact_xref as referee_xref
        on referrals.referred_contact_id = referee_xref.contact_id

)

select * from final
