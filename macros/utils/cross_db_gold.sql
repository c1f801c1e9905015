{#
    Cross-database spellings the gold layer needs (companions of cross_db.sql). DuckDB keeps the
    SQL it always ran; Spark gets an expression with the same result (docs/spark.md).
#}

{#
    dbt.datediff on Spark, with DuckDB's meaning: the number of `datepart` boundaries crossed
    between the two values (date_diff on DuckDB), a bigint. dbt-spark's own version rounds the
    elapsed seconds up instead (10:00:10 to 10:01:50 is 2 minutes there, 1 on DuckDB) and
    counts months by months_between, so the same data gave other ages, waits and cohorts. A root
    project macro named spark__datediff takes the place of dbt-spark's for every dbt.datediff
    call; parts not listed here fall back to dbt-spark's.
#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set part = datepart | lower -%}
    {%- if part == 'day' -%}
        cast(datediff(cast({{ second_date }} as date), cast({{ first_date }} as date)) as bigint)
    {%- elif part == 'month' -%}
        cast((year({{ second_date }}) * 12 + month({{ second_date }}))
            - (year({{ first_date }}) * 12 + month({{ first_date }})) as bigint)
    {%- elif part == 'year' -%}
        cast(year({{ second_date }}) - year({{ first_date }}) as bigint)
    {%- elif part in ('hour', 'minute', 'second') -%}
        {%- set seconds = {'hour': 3600, 'minute': 60, 'second': 1}[part] -%}
        (floor(unix_seconds(cast({{ second_date }} as timestamp)) / {{ seconds }})
            - floor(unix_seconds(cast({{ first_date }} as timestamp)) / {{ seconds }}))
    {%- else -%}
        {{ dbt.spark__datediff(first_date, second_date, datepart) }}
    {%- endif -%}
{%- endmacro %}

{#
    The values of a text column joined by `delimiter` in ascending order, per group. DuckDB (and
    the ANSI default) order inside the aggregate; dbt-spark's listagg ignores the order, so Spark
    sorts the collected array instead (the same binary order).
#}
{% macro sorted_listagg(measure, delimiter_text) -%}
    {{ return(adapter.dispatch('sorted_listagg', 'engagement_lake')(measure, delimiter_text)) }}
{%- endmacro %}
{% macro default__sorted_listagg(measure, delimiter_text) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ measure) }}
{%- endmacro %}
{% macro spark__sorted_listagg(measure, delimiter_text) -%}
    array_join(array_sort(collect_list({{ measure }})), {{ delimiter_text }})
{%- endmacro %}

{#
    Whole years from start_date to end_date (dates), as an age is counted: DuckDB's
    date_sub('year', start, end). A year is complete once the end date reaches the start's day
    of the month, or the last day of its month (born 29 February: a year older on 28 February).
    Spark's spelling counts the months the same way (dates only, start <= end); a bigint on both.
#}
{% macro whole_years_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('whole_years_between', 'engagement_lake')(start_date, end_date)) }}
{%- endmacro %}
{% macro default__whole_years_between(start_date, end_date) -%}
    cast(floor((
        (year({{ end_date }}) * 12 + month({{ end_date }}))
        - (year({{ start_date }}) * 12 + month({{ start_date }}))
        - case
            when day({{ end_date }}) < day({{ start_date }})
                and {{ end_date }} <> last_day({{ end_date }}) then 1
            else 0
        end
    ) / 12) as bigint)
{%- endmacro %}
{% macro duckdb__whole_years_between(start_date, end_date) -%}
    date_sub('year', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{#
    A double as a decimal type (`data_type`, e.g. 'decimal(14, 2)'), rounded as DuckDB rounds
    it: DuckDB scales the double by 10^scale and rounds half away from zero, so
    41.574999999999996 (a sixth of 249.45) becomes 41.58; Spark rounds the double's shortest
    decimal text instead and gives 41.57. Spark's spelling scales and rounds the double first, as
    DuckDB does. Only for expressions that are doubles on DuckDB: a decimal is cast exactly on
    both engines and needs plain cast().
#}
{% macro double_to_decimal(expression, data_type) -%}
    {{ return(adapter.dispatch('double_to_decimal', 'engagement_lake')(expression, data_type)) }}
{%- endmacro %}
{% macro default__double_to_decimal(expression, data_type) -%}
    {%- set scale = data_type.split(',')[1].split(')')[0] | trim | int -%}
    cast(round(cast({{ expression }} as double) * {{ 10 ** scale }}) / {{ 10 ** scale }} as {{ data_type }})
{%- endmacro %}
{% macro duckdb__double_to_decimal(expression, data_type) -%}
    cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{#
    A double rounded to `digits` decimals as DuckDB rounds it: DuckDB scales the double by
    10^digits in floating point and rounds half away from zero, so 51.849999999999994 (the
    nearest double to 51.85) becomes 51.9; Spark rounds the double's exact binary value and gives
    51.8. Spark's spelling scales first, as DuckDB does.
#}
{% macro round_double(expression, digits) -%}
    {{ return(adapter.dispatch('round_double', 'engagement_lake')(expression, digits)) }}
{%- endmacro %}
{% macro default__round_double(expression, digits) -%}
    round(cast({{ expression }} as double) * {{ 10 ** digits }}) / {{ 10 ** digits }}
{%- endmacro %}
{% macro duckdb__round_double(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}
