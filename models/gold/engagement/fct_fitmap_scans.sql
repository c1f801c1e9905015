-- One row per FitMap body scan: where and when, the measurements, and the sizes FitMap
-- recommended. Keyed to dim_customer and dim_date (scan_date).

with

scans as (

    select * from {{ ref('stg_fitmap__scans') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['scans.scan_id']) }} as scan_key,
        scans.scan_id,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ member_key("case scans.scan_location when 'store' then 'store' else 'app' end") }} as channel_key,
        cast(scans.scanned_at as date) as scan_date,
        scans.store_id,

        ---------- attributes
        scans.scan_location,
        scans.recommended_top_size,
        scans.recommended_bottom_size,

        ---------- measurements
        cast(scans.height_cm as double) as height_cm,
        cast(scans.weight_kg as double) as weight_kg,
        cast(scans.chest_cm as double) as chest_cm,
        cast(scans.waist_cm as double) as waist_cm,
        cast(scans.inseam_cm as double) as inseam_cm,
        cast(scans.scan_quality as double) as scan_quality,

        ---------- timestamps
        cast(scans.scanned_at as timestamp) as scanned_at
    from scans
    left join shop_xref
        on scans.customer_id = shop_xref.shop_customer_id

)

select * from final
