-- One row per customer engagement level (seeds/marts/engagement_levels.csv), plus the unknown member:
-- the code mart_customer_360 carries (HIGHLY_ENGAGED) with its label, lowest score and display order.

{{ score_level_dimension('engagement_levels', 'engagement_level') }}
