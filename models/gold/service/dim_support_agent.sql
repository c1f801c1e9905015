-- One row per support agent who answered a ticket or took a call (int_support_agent_profiles:
-- team, tenure, skills and workload derived from the tickets and calls, as the desk exports no
-- agent directory), plus the unknown member that facts point at when no agent is assigned.

with

known as (

    select * from {{ ref('int_support_agent_profiles') }}

),

unknown as (

    {{ unknown_member_row({'skills': ''}) }}

),

final as (

    select * from known
    union all
    select * from unknown

)

select * from final
