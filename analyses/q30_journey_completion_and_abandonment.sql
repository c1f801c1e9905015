-- Which marketing journeys do customers finish, and which do they abandon?
-- (runs of each journey by their state at the as-of date: completed, abandoned after the
-- journey_abandonment_days window without a step, or still in progress)
select
    journey_name,
    count(*) as runs,
    count(*) filter (where journey_state = 'completed') as completed_runs,
    count(*) filter (where journey_state = 'abandoned') as abandoned_runs,
    count(*) filter (where journey_state = 'in_progress') as in_progress_runs,
    round(count(*) filter (where journey_state = 'completed') * 1.0 / count(*), 4) as completion_rate,
    round(count(*) filter (where journey_state = 'abandoned') * 1.0 / count(*), 4) as abandonment_rate
from {{ ref('fct_journey_states') }}
group by journey_name
order by abandonment_rate desc, journey_name
