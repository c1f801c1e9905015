{#
    The one staging mechanism. Every bronze table's cast, validate, deduplicate and quarantine
    steps come from here, driven by the contract metadata that `engagement-lake schemas sync`
    writes into the sources YAML (column meta: logical type, required, allowed values, range,
    date format, references). Hand-written SQL is left for business logic.

    contract_spec(system, table)            the contract as dbt sees it (execute time only)
    contract_checked_rows(system, table)    every bronze row, typed, with _dq_reason/_dq_column:
                                            the SQL of the table's base model, which checks each
                                            bronze row once (base_<system>__<table>)
    contract_base(system, table)            that base model, which everything below reads
    contract_staged_rows(system, table)     valid rows, newest version per primary key (in an
                                            incremental run: of the keys the new load dates
                                            bring, macros/incremental)
    contract_version_rows(system, table)    valid rows, every distinct version per primary key
    contract_violations(system, table)      invalid rows in the quarantine layout
    bronze_row_count(system, table)         rows in bronze, 0 when the folder is missing
    skipped_file_rows(system, table)        rows in files the preflight set aside

    Bronze is read and checked once per build: the base model is a table of every row with the
    first rule it breaks (and, for a broken row only, the raw row as JSON), and staging, the
    quarantine, the version history and the reconciliation all read that table, so a staging
    view referenced twenty times costs a deduplication, not twenty reads of bronze.

    Rows of people who asked to be forgotten are dropped before any check (macros/staging/
    erasure.sql): neither staged nor quarantined, counted by erased_row_count.

    Reason codes (one per row: the first rule it breaks, in this order):
      uncastable_value    a value that does not cast to the contract's type ('abc' as a decimal)
      null_primary_key
      unparsable_date     text that is not a date in the contract's format
      missing_required    null, empty or whitespace-only
      unknown_allowed_value
      out_of_range        outside the contract's minimum/maximum; for dates also later than the
                          row's load date where the contract says notAfterLoadDate
      orphan_foreign_key

    Files: the preflight (engagement_lake.preflight) passes var('bronze_files') = {"system.table":
    [paths]} for a table some of whose files it set aside; that table is then read from exactly
    those paths, and var('bronze_skipped_rows') carries the rows of the files left out.
#}


{% macro contract_spec(system, table) %}
    {%- set uid = 'source.' ~ project_name ~ '.' ~ system ~ '.' ~ table -%}
    {%- set node = graph.sources.get(uid) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error("no source " ~ system ~ "." ~ table ~ ": run `engagement-lake schemas sync`") }}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for name, col in node.columns.items() if not name.startswith('_') -%}
        {%- do columns.append({'name': name, 'data_type': col.data_type, 'meta': col.meta}) -%}
    {%- endfor -%}
    {%- set glob = env_var('ENGAGEMENT_LAKE_DATA_DIR', 'data') ~ '/bronze/' ~ system ~ '/' ~ table ~ '/*/*.parquet' -%}
    {{ return({
        'system': system,
        'table': table,
        'schema': node.schema,
        'identifier': node.identifier,
        'columns': columns,
        'primary_key': node.meta.primary_key,
        'glob': glob,
        'files': var('bronze_files', {}).get(system ~ '.' ~ table),
    }) }}
{% endmacro %}


{#- What the staging macros read: the source's glob, or the exact files the preflight kept. -#}
{% macro bronze_relation(spec) -%}
    {%- if spec.files is none -%}
        {{ source(spec.system, spec.table) }}
    {%- else -%}
        read_parquet([{%- for f in spec.files -%}'{{ f | replace("'", "''") }}'{{ ', ' if not loop.last }}{%- endfor -%}], hive_partitioning = true, union_by_name = true, file_row_number = true)
    {%- endif -%}
{%- endmacro %}


{#- The file list or glob as a table-function argument. -#}
{% macro _bronze_paths(spec) -%}
    {%- if spec.files is none -%} '{{ spec.glob }}'
    {%- else -%} [{%- for f in spec.files -%}'{{ f | replace("'", "''") }}'{{ ', ' if not loop.last }}{%- endfor -%}] {%- endif -%}
{%- endmacro %}


{#- Columns present in the bronze files, by file; [] when there are none. A required column
    missing from any file is a schema break that must stop the build, named precisely. -#}
{% macro bronze_file_columns(spec) %}
    {{ return(adapter.dispatch('bronze_file_columns', 'engagement_lake')(spec)) }}
{% endmacro %}

{% macro duckdb__bronze_file_columns(spec) %}
    {%- if spec.files is none -%}
        {%- set files = run_query("select count(*) from glob('" ~ spec.glob ~ "')").columns[0].values()[0] -%}
    {%- else -%}
        {%- set files = spec.files | length -%}
    {%- endif -%}
    {%- if files == 0 -%}
        {{ return({'files': 0, 'present': []}) }}
    {%- endif -%}
    {%- set schema = run_query(
        "select file_name, name from parquet_schema(" ~ _bronze_paths(spec) ~ ") where name <> 'schema'") -%}
    {%- set by_file = {} -%}
    {%- for row in schema.rows -%}
        {%- do by_file.setdefault(row[0], []).append(row[1]) -%}
    {%- endfor -%}
    {%- set present = [] -%}
    {%- for col in spec.columns -%}
        {%- set missing_in = [] -%}
        {%- for file, names in by_file.items() if col.name not in names -%}
            {%- do missing_in.append(file) -%}
        {%- endfor -%}
        {%- if missing_in and col.meta.get('required') -%}
            {{ exceptions.raise_compiler_error(
                "bronze " ~ spec.system ~ "." ~ spec.table ~ ": required column '" ~ col.name
                ~ "' is missing from " ~ missing_in | sort | first
                ~ (" and " ~ (missing_in | length - 1) ~ " more file(s)" if missing_in | length > 1 else "")) }}
        {%- endif -%}
        {%- if missing_in | length < by_file | length -%}
            {%- do present.append(col.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'files': files, 'present': present}) }}
{% endmacro %}


{#- Spark reads bronze through one view per table (macros/spark/bronze_views.sql) whose schema is
    the union of its files' columns; the per-file check that a required column is in every file
    is the preflight's (engagement_lake.preflight), which runs before any engine. -#}
{% macro spark__bronze_file_columns(spec) %}
    {%- if not execute -%}
        {{ return({'files': 0, 'present': []}) }}
    {%- endif -%}
    {%- if spec.files is not none -%}
        {{ exceptions.raise_compiler_error(
            "bronze " ~ spec.system ~ "." ~ spec.table ~ ": files set aside by the preflight "
            ~ "(--unreadable quarantine) are supported on DuckDB only; on Spark replace the file") }}
    {%- endif -%}
    {%- set present_tables = var('bronze_tables', none) -%}
    {%- if present_tables is not none and (spec.system ~ '.' ~ spec.table) not in present_tables -%}
        {{ return({'files': 0, 'present': []}) }}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(source(spec.system, spec.table)) | map(attribute='name') | list -%}
    {%- set present = [] -%}
    {%- for col in spec.columns if col.name in names -%}
        {%- do present.append(col.name) -%}
    {%- endfor -%}
    {{ return({'files': 1, 'present': present}) }}
{% endmacro %}


{%- macro java_to_strftime(fmt) -%}
    {{ return(fmt | replace('yyyy', '%Y') | replace('MM', '%m') | replace('dd', '%d')
                  | replace('HH', '%H') | replace('mm', '%M') | replace('ss', '%S')) }}
{%- endmacro -%}


{#- A contract's SQL type as this adapter spells it: VARCHAR (no length) is Spark's STRING. -#}
{% macro sql_type(data_type) -%}
    {{ return(dbt.type_string() if data_type | upper == 'VARCHAR' else data_type) }}
{%- endmacro %}


{#- The typed value of one contract column. -#}
{% macro contract_cast(col, present) -%}
    {%- set logical = col.meta.logical_type -%}
    {%- if col.name not in present -%}
        cast(null as {{ sql_type(col.data_type) if col.data_type != 'VARCHAR' or logical == 'string' else ('date' if logical == 'date' else 'timestamp') }})
    {%- elif col.data_type == 'VARCHAR' and logical in ('date', 'timestamp') -%}
        {{ parse_text_date('raw.' ~ col.name, col.meta.get('date_format', 'yyyy-MM-dd'), logical) }}
    {%- elif col.data_type == 'VARCHAR' -%}
        cast(raw.{{ col.name }} as {{ dbt.type_string() }})
    {%- else -%}
        {{ try_cast_value('raw.' ~ col.name, col.data_type) }}
    {%- endif -%}
{%- endmacro %}


{#- A cast that yields null instead of failing, so a bad value becomes a quarantine reason rather
    than a build failure. (dbt.safe_cast is a plain cast on DuckDB.) -#}
{% macro try_cast_value(expr, data_type) -%}
    {{ return(adapter.dispatch('try_cast_value', 'engagement_lake')(expr, data_type)) }}
{%- endmacro %}

{% macro default__try_cast_value(expr, data_type) -%}
    try_cast({{ expr }} as {{ data_type }})
{%- endmacro %}


{#- The first column, in contract order, whose value is present but does not cast (or null). -#}
{% macro uncastable_column(spec, present) -%}
    {%- set castable = [] -%}
    {%- for col in spec.columns if col.name in present and col.data_type != 'VARCHAR' -%}
        {%- do castable.append(col) -%}
    {%- endfor -%}
    {%- if castable -%}
    case
        {%- for col in castable %}
        when raw.{{ col.name }} is not null and {{ try_cast_value('raw.' ~ col.name, col.data_type) }} is null then '{{ col.name }}'
        {%- endfor %}
    end
    {%- else -%} cast(null as {{ dbt.type_string() }}) {%- endif -%}
{%- endmacro %}


{% macro parse_text_date(expr, fmt, logical) -%}
    {{ return(adapter.dispatch('parse_text_date', 'engagement_lake')(expr, fmt, logical)) }}
{%- endmacro %}

{% macro default__parse_text_date(expr, fmt, logical) -%}
    {%- if logical == 'date' -%} try_to_date(trim({{ expr }}), '{{ fmt }}')
    {%- else -%} try_to_timestamp(trim({{ expr }}), '{{ fmt }}') {%- endif -%}
{%- endmacro %}

{% macro duckdb__parse_text_date(expr, fmt, logical) -%}
    {%- if logical == 'date' -%} cast(try_strptime(trim({{ expr }}), '{{ java_to_strftime(fmt) }}') as date)
    {%- else -%} try_strptime(trim({{ expr }}), '{{ java_to_strftime(fmt) }}') {%- endif -%}
{%- endmacro %}


{#- The bronze row as one value, carried through the checks; row_json writes it as JSON for the
    broken rows alone (CASE evaluates its branch only for the rows that need it). -#}
{% macro raw_row_value(alias) -%}
    {{ return(adapter.dispatch('raw_row_value', 'engagement_lake')(alias)) }}
{%- endmacro %}

{% macro default__raw_row_value(alias) -%} struct({{ alias }}.*) {%- endmacro %}

{% macro duckdb__raw_row_value(alias) -%} {{ alias }} {%- endmacro %}


{% macro row_json(expr) -%}
    {{ return(adapter.dispatch('row_json', 'engagement_lake')(expr)) }}
{%- endmacro %}

{#- Spark: nulls written out (as DuckDB does, so a missing value shows), timestamps as text
    with a space and microseconds. -#}
{% macro default__row_json(expr) -%}
    to_json({{ expr }}, map(
        'ignoreNullFields', 'false',
        'timestampFormat', 'yyyy-MM-dd HH:mm:ss.SSSSSS',
        'timestampNTZFormat', 'yyyy-MM-dd HH:mm:ss.SSSSSS'
    ))
{%- endmacro %}

{% macro duckdb__row_json(expr) -%} cast(to_json({{ expr }}) as varchar) {%- endmacro %}


{%- macro _literal(value, logical) -%}
    {%- if logical in ('integer', 'number') -%} {{ value }}
    {%- elif logical == 'date' -%} cast('{{ value }}' as date)
    {%- elif logical == 'timestamp' -%} cast('{{ value }}' as timestamp)
    {%- elif value is string -%} '{{ value | replace("'", "''") }}'
    {%- else -%} {{ value }} {%- endif -%}
{%- endmacro -%}


{#- Every bronze row of the table, typed, with the first contract rule it breaks (or null): the SQL
    of the base model, base_<system>__<table>. A required foreign key is checked against the
    parent's staged rows, so the base model of a child table builds after its parent's staging. -#}
{% macro contract_checked_rows(system, table) %}
    {%- set relation = source(system, table) -%}
    {%- if not execute -%}
        {{ return('select 1 as _unused') }}
    {%- endif -%}
    {%- set spec = contract_spec(system, table) -%}
    {%- set files = bronze_file_columns(spec) -%}
    {%- set checks = [('typed._uncastable_column is not null', 'uncastable_value', 'typed._uncastable_column')] -%}
    {%- set joins = [] -%}
    {%- for col in spec.columns -%}
        {%- set c = 'typed.' ~ col.name -%}
        {%- set m = col.meta -%}
        {%- set text = col.data_type == 'VARCHAR' and m.logical_type == 'string' -%}
        {%- if m.get('primary_key') -%}
            {%- do checks.append((c ~ ' is null', 'null_primary_key', "'" ~ col.name ~ "'")) -%}
        {%- endif -%}
        {%- if col.data_type == 'VARCHAR' and m.logical_type in ('date', 'timestamp') and col.name in files.present -%}
            {%- do checks.append(("nullif(trim(typed._text__" ~ col.name ~ "), '') is not null and " ~ c ~ " is null", 'unparsable_date', "'" ~ col.name ~ "'")) -%}
        {%- endif -%}
        {%- if m.get('required') and not m.get('primary_key') -%}
            {%- if text -%}
                {%- do checks.append(("nullif(trim(" ~ c ~ "), '') is null", 'missing_required', "'" ~ col.name ~ "'")) -%}
            {%- else -%}
                {%- do checks.append((c ~ ' is null', 'missing_required', "'" ~ col.name ~ "'")) -%}
            {%- endif -%}
        {%- endif -%}
        {%- if m.get('allowed_values') -%}
            {%- set values = [] -%}
            {%- for v in m.allowed_values -%}{%- do values.append(_literal(v, m.logical_type)) -%}{%- endfor -%}
            {%- do checks.append((c ~ ' is not null and ' ~ c ~ ' not in (' ~ values | join(', ') ~ ')', 'unknown_allowed_value', "'" ~ col.name ~ "'")) -%}
        {%- endif -%}
        {%- set bounds = [] -%}
        {%- if m.get('minimum') is not none -%}{%- do bounds.append(c ~ ' < ' ~ _literal(m.minimum, m.logical_type)) -%}{%- endif -%}
        {%- if m.get('maximum') is not none -%}{%- do bounds.append(c ~ ' > ' ~ _literal(m.maximum, m.logical_type)) -%}{%- endif -%}
        {%- if m.get('not_after_load_date') -%}{%- do bounds.append('cast(' ~ c ~ ' as date) > typed._load_date') -%}{%- endif -%}
        {%- if bounds -%}
            {%- do checks.append((c ~ ' is not null and (' ~ bounds | join(' or ') ~ ')', 'out_of_range', "'" ~ col.name ~ "'")) -%}
        {%- endif -%}
        {%- set r = m.get('references') -%}
        {%- if r and r.required -%}
            {%- set alias = '_fk_' ~ (joins | length) -%}
            {%- set parent = ref('stg_' ~ r.source ~ '__' ~ r.table) -%}
            {%- set parent_col = r.column -%}
            {%- do joins.append('left join (select distinct ' ~ parent_col ~ ' as _key from ' ~ parent ~ ') as ' ~ alias ~ ' on ' ~ alias ~ '._key = ' ~ c) -%}
            {%- do checks.append((c ~ ' is not null and ' ~ alias ~ '._key is null', 'orphan_foreign_key', "'" ~ col.name ~ "'")) -%}
        {%- endif -%}
    {%- endfor %}

    {%- if files.files == 0 %}
    select
        {%- for col in spec.columns %}
        cast(null as {{ sql_type(col.data_type) if col.data_type != 'VARCHAR' or col.meta.logical_type == 'string' else col.meta.logical_type }}) as {{ col.name }},
        {%- endfor %}
        cast(null as timestamp) as _loaded_at,
        cast(null as {{ dbt.type_string() }}) as _source_file,
        cast(null as {{ dbt.type_string() }}) as _batch_id,
        cast(null as bigint) as _source_row,
        cast(null as {{ dbt.type_string() }}) as _dq_reason,
        cast(null as {{ dbt.type_string() }}) as _dq_column,
        cast(null as {{ dbt.type_string() }}) as _raw_json,
        cast(null as date) as _load_date
    where 1 = 0
    {%- else %}
    select
        {%- for col in spec.columns %}
        {{ col.name }},
        {%- endfor %}
        _loaded_at,
        _source_file,
        _batch_id,
        _source_row,
        _dq_reason,
        _dq_column,
        case when _dq_reason is not null then {{ row_json('_raw_row') }} end as _raw_json,
        -- last: Spark moves its partition column (staging's partition_by) to the end anyway
        _load_date
    from (
    select
        typed.*,
        case
            {%- for cond, reason, column in checks %}
            when {{ cond }} then '{{ reason }}'
            {%- endfor %}
        end as _dq_reason,
        case
            {%- for cond, reason, column in checks %}
            when {{ cond }} then {{ column }}
            {%- endfor %}
        end as _dq_column
    from (
        select
            {%- for col in spec.columns %}
            {{ contract_cast(col, files.present) }} as {{ col.name }},
            {%- if col.data_type == 'VARCHAR' and col.meta.logical_type in ('date', 'timestamp') and col.name in files.present %}
            raw.{{ col.name }} as _text__{{ col.name }},
            {%- endif %}
            {%- endfor %}
            cast(raw._loaded_at as timestamp) as _loaded_at,
            cast(raw._source_file as {{ dbt.type_string() }}) as _source_file,
            cast(raw._batch_id as {{ dbt.type_string() }}) as _batch_id,
            cast(raw.file_row_number as bigint) as _source_row,
            {{ raw_row_value('raw') }} as _raw_row,
            cast(raw.load_date as date) as _load_date,
            {{ uncastable_column(spec, files.present) }} as _uncastable_column
        from {{ bronze_relation(spec) }} as raw
        -- an incremental run reads whole load_date= partitions: the new ones, and those
        -- holding orphans whose parent has landed since (engagement_lake.increments)
        where {{ load_date_filter('raw.load_date') }}
        {{ not_erased(system, table, 'raw', keyword='and') }}
    ) as typed
    {%- for join in joins %}
    {{ join }}
    {%- endfor %}
    ) as checked
    {%- endif %}
{% endmacro %}


{#- The base model of a bronze table: every row, checked once (contract_checked_rows). -#}
{% macro contract_base(system, table) -%}
    {{ return(ref('base_' ~ system ~ '__' ~ table)) }}
{%- endmacro %}


{#- Valid rows only, newest version of each primary key: by _loaded_at, then _batch_id (then the
    file and row, so that exact replays collapse deterministically). -#}
{% macro contract_staged_rows(system, table) %}
    {%- set base = contract_base(system, table) -%}
    {%- if not execute -%}
        {{ return('select 1 as _unused') }}
    {%- endif -%}
    {%- set spec = contract_spec(system, table) %}
    select *
    from (
        select
            checked.*,
            row_number() over (
                partition by {{ spec.primary_key | join(', ') }}
                order by _loaded_at desc, _batch_id desc, _source_file desc, _source_row desc
            ) as _version_rank
        from {{ base }} as checked
        where _dq_reason is null
        {%- if incremental_load_dates() is not none %}
            -- an incremental run: every version, in all of bronze, of the keys the new
            -- partitions bring (a late row may be older than the version kept, a replay equal
            -- to it), ranked as a full build ranks them; delete+insert replaces these keys
            and exists (
                select 1
                from {{ base }} as fresh
                where fresh._dq_reason is null
                    and {{ load_date_filter('fresh._load_date') }}
                    {%- for key in spec.primary_key %}
                    and fresh.{{ key }} = checked.{{ key }}
                    {%- endfor %}
            )
        {%- endif %}
    ) as versions
    where _version_rank = 1
{% endmacro %}


{#- Invalid rows in the layout of quality.quarantine. -#}
{% macro contract_violations(system, table) %}
    {%- set base = contract_base(system, table) -%}
    {%- if not execute -%}
        {{ return('select 1 as _unused') }}
    {%- endif -%}
    {%- set spec = contract_spec(system, table) %}
    select
        '{{ system }}' as system,
        '{{ table }}' as table_name,
        cast({{ spec.primary_key | join(" || '|' || ") }} as {{ dbt.type_string() }}) as source_key,
        _source_file,
        _source_row,
        _batch_id,
        _loaded_at,
        _dq_reason as reason,
        _dq_column as column_name,
        _raw_json as raw_row
    from {{ base }} as checked
    where _dq_reason is not null
{% endmacro %}


{% macro bronze_row_count(system, table) %}
    {%- set relation = source(system, table) -%}
    {%- if not execute -%}
        {{ return('0') }}
    {%- endif -%}
    {%- set spec = contract_spec(system, table) -%}
    {%- set files = bronze_file_columns(spec) -%}
    {%- if files.files == 0 -%}
        (select cast(0 as bigint))
    {%- else -%}
        (select count(*) from {{ bronze_relation(spec) }})
    {%- endif -%}
{% endmacro %}


{#- Rows in the bronze files of the table that the preflight set aside (0 when none). -#}
{% macro skipped_file_rows(system, table) -%}
    {{ return('cast(' ~ (var('bronze_skipped_rows', {}).get(system ~ '.' ~ table, 0) | int) ~ ' as bigint)') }}
{%- endmacro %}


{#- Valid bronze rows that are not the newest version of their key (older versions, replays),
    counted from the base model (every bronze row but the erased ones) rather than from the
    staged model, so that the reconciliation can catch a staging model that loses rows. -#}
{% macro collapsed_row_count(system, table) %}
    {%- set base = contract_base(system, table) -%}
    {%- if not execute -%}
        {{ return('0') }}
    {%- endif -%}
    {%- set spec = contract_spec(system, table) -%}
    (
        select count(*) - count(distinct {{ spec.primary_key | join(', ') }})
        from {{ base }}
        where _dq_reason is null
    )
{% endmacro %}


{#- Valid rows, every distinct version of each key: a row whose contract columns all equal an
    earlier row of the same key (an exact replay) is counted once, at the load that first brought
    it (_load_date). The history models read these; nothing here orders versions, since which
    version is newer is the history model's decision (the source's updated_at). -#}
{% macro contract_version_rows(system, table) %}
    {%- set base = contract_base(system, table) -%}
    {%- if not execute -%}
        {{ return('select 1 as _unused') }}
    {%- endif -%}
    {%- set spec = contract_spec(system, table) %}
    select *
    from (
        select
            checked.*,
            row_number() over (
                partition by {% for col in spec.columns %}{{ col.name }}{{ ', ' if not loop.last }}{% endfor %}
                order by _loaded_at, _batch_id, _source_file, _source_row
            ) as _replay_rank
        from {{ base }} as checked
        where _dq_reason is null
    ) as versions
    where _replay_rank = 1
{% endmacro %}
