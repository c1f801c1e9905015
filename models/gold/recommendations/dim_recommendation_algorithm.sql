-- One row per recommendation algorithm: the algorithms in seeds/gold/recommendation_algorithms.csv
-- and any other code found in the served recommendations (family 'other' until the seed learns
-- it), plus the unknown member.

with

served as (

    select * from {{ ref('stg_mlops__recommendations_served') }}

),

algorithm_taxonomy as (

    select * from {{ ref('recommendation_algorithms') }}

),

algorithms as (

    select algorithm from algorithm_taxonomy
    union
    select algorithm from served where algorithm is not null

),

known as (

    select
        ---------- keys
        {{ surrogate_key(['algorithms.algorithm']) }} as algorithm_key,

        ---------- attributes
        algorithms.algorithm,
        coalesce(algorithm_taxonomy.algorithm_name, algorithms.algorithm) as algorithm_name,
        coalesce(algorithm_taxonomy.algorithm_family, 'other') as algorithm_family,
        algorithm_taxonomy.description,

        ---------- flags
        coalesce(algorithm_taxonomy.is_personalised, false) as is_personalised
    from algorithms
    left join algorithm_taxonomy
        on algorithms.algorithm = algorithm_taxonomy.algorithm

),

unknown as (

    {{ unknown_member_row() }}

),

final as (

    select * from known
    union all
    select * from unknown

)

select * from final
