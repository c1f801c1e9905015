{#
    Right to erasure in staging: bronze rows of a person who asked to be forgotten never reach
    staging, the quarantine or anything built on them (docs/privacy.md, "Erasure").

    `engagement-lake forget` appends the person's source ids to the erasure register,
    <data dir>/_erasure/requests.parquet: one row per id, with the identity table's contract
    (shop.customers) and primary-key column (customer_id) it belongs to. The register describes
    itself, so this macro needs nothing else: at compile time it reads which identity tables the
    register names, and a bronze row is erased when

      - it is a register row's identity record (shop.customers.customer_id in the register), or
      - a column of it references such a record (the contract's `relationships`: orders,
        tickets, e-mail events … of the person), or
      - a column of it references a row erased by these rules (order items of an erased order,
        messages of an erased ticket), followed up to three references deep.

    contract_checked_rows drops erased rows before any contract check (so they are neither
    staged nor quarantined with their raw row), collapsed_row_count leaves them out, and
    erased_row_count counts them for quality.reconciliation (bronze = staged + quarantined +
    collapsed + erased). Without a register (the usual case) every macro here renders nothing
    and staging is exactly as before.

    The register is a file the build reads, like the preflight's manifest, not a dbt source:
    it is not a source system's data, and as a source the preflight and the freshness checks
    would treat it as bronze.
#}

{% macro erasure_register_path() -%}
    {{ return(env_var('ENGAGEMENT_LAKE_DATA_DIR', 'data') ~ '/_erasure/requests.parquet') }}
{%- endmacro %}


{#- contract -> primary-key column of the identity tables the register names ({} without one). -#}
{% macro erasure_identities() %}
    {%- set found = {} -%}
    {%- if execute -%}
        {%- set relation = erasure_register_relation() -%}
        {%- if relation -%}
            {%- set rows = run_query("select distinct contract, id_column from " ~ relation) -%}
            {%- for row in rows.rows -%}
                {%- do found.update({row[0]: row[1]}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}


{#- The register as a relation to select from; '' when there is none. DuckDB reads the file,
    when it exists; Spark reads the build's copy of it, _erasure.requests, empty when there is
    no file (spark__copy_erasure_register). -#}
{% macro erasure_register_relation() %}
    {{ return(adapter.dispatch('erasure_register_relation', 'engagement_lake')()) }}
{% endmacro %}

{% macro duckdb__erasure_register_relation() %}
    {%- set path = erasure_register_path() | replace("'", "''") -%}
    {%- set present = run_query("select count(*) from glob('" ~ path ~ "')").columns[0].values()[0] -%}
    {{ return("read_parquet('" ~ path ~ "')" if present else '') }}
{% endmacro %}

{% macro default__erasure_register_relation() %}
    {%- if adapter.get_relation(database=none, schema='_erasure', identifier='requests') is none -%}
        {{ exceptions.raise_compiler_error(
            "the erasure register's copy _erasure.requests is missing: the on-run-start hook "
            ~ "bronze_views() makes it (macros/spark/bronze_views.sql)") }}
    {%- endif -%}
    {{ return('_erasure.requests') }}
{% endmacro %}


{#- Spark: the on-run-start hook copies the register into the table _erasure.requests of the
    Spark folder, which staging then reads. Spark SQL cannot ask whether a file exists, reading
    a missing file fails, and a table located at it would make the metastore create a folder
    where the file belongs. So the copy reads a path pattern that matches the register file when
    there is one and always matches an empty Parquet file of the register's columns, kept in the
    Spark folder (_erasure.register_layout): without a register, the copy is empty. -#}
{% macro spark__copy_erasure_register() %}
    {%- set columns = 'contract, id_column, source_id' -%}
    {%- do run_query('create database if not exists _erasure') -%}
    {%- do run_query(
        'create table if not exists _erasure.register_layout using parquet as select '
        ~ 'cast(null as string) as contract, cast(null as string) as id_column, '
        ~ 'cast(null as string) as source_id where false') -%}
    {%- do run_query(
        'create table if not exists _erasure.requests '
        ~ '(contract string, id_column string, source_id string) using parquet') -%}
    {%- set layout = [] -%}
    {%- for row in run_query('describe table extended _erasure.register_layout').rows if row[0] == 'Location' -%}
        {%- do layout.append(modules.re.sub('^file:(//)?', '', row[1])) -%}
    {%- endfor -%}
    {#- alternatives in a pattern must all be absolute: Spark resolves a relative folder against
        the driver's working directory -#}
    {%- set paths = [] -%}
    {%- for path in [erasure_register_path()] + layout -%}
        {%- if not path.startswith('/') -%}
            {%- set cwd = run_query("select reflect('java.lang.System', 'getProperty', 'user.dir')").columns[0].values()[0] -%}
            {%- set path = cwd.rstrip('/') ~ '/' ~ path -%}
        {%- endif -%}
        {%- if modules.re.search('[][{}*?,`\\\\]', path) -%}
            {{ exceptions.raise_compiler_error(
                "Spark cannot read the erasure register through " ~ path
                ~ ": the path holds a character of Spark's file patterns") }}
        {%- endif -%}
        {%- do paths.append(path[1:]) -%}
    {%- endfor -%}
    {%- do run_query(
        'insert overwrite table _erasure.requests select ' ~ columns
        ~ ' from parquet.`/{' ~ paths | join(',') ~ '}`') -%}
{% endmacro %}


{#- SQL true when column `expr` holds an id the register lists for identity table `contract`. -#}
{% macro _in_erasure_register(expr, contract) -%}
    cast({{ expr }} as {{ dbt.type_string() }}) in (
        select source_id from {{ erasure_register_relation() }}
        where contract = '{{ contract }}'
    )
{%- endmacro %}


{#- A SQL condition on the bronze row `alias` of system.table that is true when the row is
    erased; '' when no row of the table can be (no register, or no reference to a person). -#}
{% macro erased_row_condition(system, table, alias, identities=none, depth=0) %}
    {%- set identities = erasure_identities() if identities is none else identities -%}
    {%- if not identities -%}
        {{ return('') }}
    {%- endif -%}
    {%- set spec = contract_spec(system, table) -%}
    {%- set files = bronze_file_columns(spec) -%}
    {%- if files.files == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set fqn = system ~ '.' ~ table -%}
    {%- set conditions = [] -%}
    {%- for col in spec.columns if col.name in files.present -%}
        {%- set c = alias ~ '.' ~ col.name -%}
        {%- if identities.get(fqn) == col.name -%}
            {%- do conditions.append(_in_erasure_register(c, fqn)) -%}
        {%- endif -%}
        {%- set r = col.meta.get('references') -%}
        {%- if r -%}
            {%- set parent = r.source ~ '.' ~ r.table -%}
            {%- if identities.get(parent) == r.column -%}
                {%- do conditions.append(_in_erasure_register(c, parent)) -%}
            {%- elif parent != fqn and depth < 3 -%}
                {%- set parent_alias = '_erased_' ~ (depth + 1) -%}
                {%- set parent_condition = erased_row_condition(r.source, r.table, parent_alias, identities, depth + 1) -%}
                {%- if parent_condition -%}
                    {%- set parent_spec = contract_spec(r.source, r.table) -%}
                    {%- do conditions.append(
                        'cast(' ~ c ~ ' as ' ~ dbt.type_string() ~ ') in (select cast(' ~ parent_alias ~ '.'
                        ~ r.column ~ ' as ' ~ dbt.type_string() ~ ') from ' ~ erased_parent_rows(parent_spec)
                        ~ ' as ' ~ parent_alias
                        ~ ' where coalesce(' ~ parent_condition ~ ', false))') -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(conditions | join(' or ')) }}
{% endmacro %}


{#- The bronze rows of a referenced table, read without source(): that table is not a
    dependency dbt saw when it parsed the model (the register is only read at run time). DuckDB
    reads its files; Spark its bronze view (macros/spark/bronze_views.sql). -#}
{% macro erased_parent_rows(spec) -%}
    {{ return(adapter.dispatch('erased_parent_rows', 'engagement_lake')(spec)) }}
{%- endmacro %}

{% macro duckdb__erased_parent_rows(spec) -%}
    read_parquet({{ _bronze_paths(spec) }}, hive_partitioning = true, union_by_name = true, file_row_number = true)
{%- endmacro %}

{% macro default__erased_parent_rows(spec) -%}
    {{ spec.schema }}.{{ spec.identifier }}
{%- endmacro %}


{#- `where`/`and` clause keeping the rows of `alias` that are not erased ('' when none can be). -#}
{% macro not_erased(system, table, alias, keyword='where') -%}
    {%- set condition = erased_row_condition(system, table, alias) -%}
    {%- if condition -%}
        {{ keyword }} not coalesce({{ condition }}, false)
    {%- endif -%}
{%- endmacro %}


{#- Bronze rows of the table dropped because their person asked to be forgotten. -#}
{% macro erased_row_count(system, table) %}
    {%- set relation = source(system, table) -%}
    {%- if not execute -%}
        {{ return('0') }}
    {%- endif -%}
    {%- set condition = erased_row_condition(system, table, 'raw') -%}
    {%- if not condition -%}
        {{ return('cast(0 as bigint)') }}
    {%- endif -%}
    {%- set spec = contract_spec(system, table) -%}
    {{ return('(select count(*) from ' ~ bronze_relation(spec) ~ ' as raw where coalesce(' ~ condition ~ ', false))') }}
{% endmacro %}
