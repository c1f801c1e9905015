-- One row per topic and day of the monitored period (var sentiment_alert_days, ending on the
-- as-of date): the negative texts of the topic in the trailing window of
-- var sentiment_alert_window_days ending that day, against its baseline — the negative texts of
-- the var sentiment_alert_baseline_days just before the window, scaled to one window's length.
-- The day raises an "emerging issue" alert (is_alert) when the window holds at least
-- var sentiment_alert_min_negative_texts negative texts and at least
-- var sentiment_alert_min_ratio times the baseline. Every topic of fct_sentiment_daily is
-- watched, 'none' (texts matching no keyword) included; a text counts once per topic it names.

with

daily as (

    select
        written_date,
        topic,
        sum(texts) as texts,
        sum(negative_texts) as negative_texts
    from {{ ref('fct_sentiment_daily') }}
    group by written_date, topic

),

topics as (

    select distinct topic from daily

),

alert_days as (

    {{ day_spine(
        dbt.dateadd('day', '1 - ' ~ var('sentiment_alert_days'), as_of_date(ref('stg_shop__orders'))),
        as_of_date(ref('stg_shop__orders'))
    ) }}

),

grid as (

    select
        alert_days.date_day as alert_date,
        topics.topic,
        cast({{ dbt.dateadd('day', '1 - ' ~ var('sentiment_alert_window_days'), 'alert_days.date_day') }} as date) as window_start_date,
        cast({{ dbt.dateadd('day', '1 - ' ~ var('sentiment_alert_window_days') ~ ' - ' ~ var('sentiment_alert_baseline_days'), 'alert_days.date_day') }} as date) as baseline_start_date
    from alert_days
    cross join topics

),

counted as (

    select
        grid.alert_date,
        grid.topic,
        grid.window_start_date,
        grid.baseline_start_date,
        coalesce(sum(case when daily.written_date >= grid.window_start_date then daily.texts end), 0) as window_texts,
        coalesce(sum(case when daily.written_date >= grid.window_start_date then daily.negative_texts end), 0) as window_negative_texts,
        coalesce(sum(case when daily.written_date < grid.window_start_date then daily.negative_texts end), 0) as baseline_negative_texts
    from grid
    left join daily
        on grid.topic = daily.topic
        and daily.written_date >= grid.baseline_start_date
        and daily.written_date <= grid.alert_date
    group by grid.alert_date, grid.topic, grid.window_start_date, grid.baseline_start_date

),

scaled as (

    select
        counted.*,
        cast(counted.baseline_negative_texts as double) * {{ var('sentiment_alert_window_days') }}
        / {{ var('sentiment_alert_baseline_days') }} as baseline_negative_per_window
    from counted

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['alert_date', 'topic']) }} as sentiment_alert_key,
        alert_date,

        ---------- attributes
        topic,
        window_start_date,
        baseline_start_date,

        ---------- measures
        cast(window_texts as integer) as window_texts,
        cast(window_negative_texts as integer) as window_negative_texts,
        cast(baseline_negative_texts as integer) as baseline_negative_texts,
        cast(baseline_negative_per_window as double) as baseline_negative_per_window,
        cast(case
            when baseline_negative_per_window > 0
                then window_negative_texts / baseline_negative_per_window
        end as double) as spike_ratio,

        ---------- flags
        window_negative_texts >= {{ var('sentiment_alert_min_negative_texts') }}
        and window_negative_texts >= {{ var('sentiment_alert_min_ratio') }} * baseline_negative_per_window as is_alert
    from scaled

)

select * from final
