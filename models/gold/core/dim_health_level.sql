-- One row per customer health level (seeds/marts/health_levels.csv), plus the unknown member:
-- the code the marts carry (EXCELLENT) with its label, lowest score and display order.

{{ score_level_dimension('health_levels', 'health_level') }}
