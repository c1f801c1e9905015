-- Every health weight profile (seeds/marts/health_weight_profiles.csv) weighs its components
-- with shares that add up to exactly 1, none negative: the score stays on the 0-100 scale of its
-- components. Returns the profiles that do not.

select
    profile,
    sum(weight) as total_weight,
    min(weight) as lowest_weight
from {{ ref('health_weight_profiles') }}
group by profile
having sum(weight) <> 1 or min(weight) < 0
