{#
    Spark's incremental strategy: `insert_overwrite`, with the meaning DuckDB's `delete+insert`
    has. Spark's Parquet tables have no MERGE and no DELETE, so an incremental run cannot remove
    the old version of a key the new load dates bring; it rewrites what holds such versions
    instead. This replaces dbt-spark's get_insert_overwrite_sql (dbt resolves a macro of the root
    project before the adapter's), which overwrites with the new rows alone: on an unpartitioned
    table that loses every other row, on a partitioned one it leaves the old version of a key
    that moved to a newer partition.

    A run's new rows (the model's SQL over the new load dates: new keys, and re-sent, late or
    replayed versions of old ones) are written once to `<model>__el_new`. Then:

    partitioned (the staged tables, partition_by _load_date, dbt_project.yml)
        the affected partitions are those of the new rows and those that hold an old version of
        one of their keys; each is overwritten with its rows minus those keys plus its new rows
        (dynamic partition overwrite, profiles.yml: other partitions are not touched). A
        partition left with no row (all its keys moved on) is dropped, since an overwrite
        cannot write an empty partition.
    unpartitioned (the gold facts)
        Spark refuses to overwrite a table the same query reads, so the table's rows minus the
        new keys, plus the new rows, are written to `<model>__el_aside`, which then replaces the
        table (drop, rename). The model's SQL still computes only the touched keys; the rewrite
        is I/O. A model with `replace_scope` (macros/incremental/replace_scope.sql) loses every
        row of the groups its new rows name instead, and its tombstones are not written.

    The work tables are dropped, or renamed into place, by the end of the model, and dropped
    before it in case a killed run left them. A run killed between the drop and the rename
    leaves no table, which the next run builds in full. A partitioned run killed before its
    overwrite commits leaves the table as it was, or with some partitions rewritten; the next
    build reads the same load dates again and rewrites whatever their keys touch.
#}

{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) %}
    {%- set unique_key = config.get('unique_key') -%}
    {%- if unique_key is none -%}
        {{ exceptions.raise_compiler_error(
            "incremental model " ~ this ~ " sets no unique_key: the Spark strategy replaces "
            ~ "the rows of the keys a run brings, so every incremental model needs one") }}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set partition_by = config.get('partition_by') or [] -%}
    {%- set parts = [partition_by] if partition_by is string else partition_by -%}
    {%- set columns = adapter.get_columns_in_relation(target_relation)
                      | map(attribute='quoted') | join(', ') -%}
    {%- set new_rows = el_work_relation(target_relation, '__el_new') -%}
    {%- set aside = el_work_relation(target_relation, '__el_aside') -%}
    {#- a model replaced by scope (macros/incremental/replace_scope.sql) replaces every row of
        the groups its new rows name, and inserts none of its tombstones (a null key) -#}
    {%- set scope = config.get('replace_scope') -%}
    {%- set same_key -%}
        {%- if scope is not none -%}new_rows.{{ scope }} = kept.{{ scope }}
        {%- else -%}
        {%- for key in keys %}new_rows.{{ key }} = kept.{{ key }}{{ ' and ' if not loop.last }}{% endfor -%}
        {%- endif -%}
    {%- endset -%}
    {%- set inserted -%}
        {%- if scope is not none %} where {% for key in keys %}{{ key }} is not null{{ ' and ' if not loop.last }}{% endfor %}{% endif -%}
    {%- endset -%}
    {%- set replaced -%}
        exists (select 1 from {{ new_rows }} as new_rows where {{ same_key }})
    {%- endset -%}

    {%- do run_query('drop table if exists ' ~ new_rows) -%}
    {%- do run_query('drop table if exists ' ~ aside) -%}
    {%- do run_query('create table ' ~ new_rows ~ ' using parquet as select * from ' ~ source_relation) -%}

    {%- if parts and scope is not none -%}
        {{ exceptions.raise_compiler_error(
            "incremental model " ~ this ~ " sets both partition_by and replace_scope: a "
            ~ "partitioned table is rewritten by key, so it cannot be replaced by scope") }}
    {%- endif -%}
    {%- if parts -%}
        {%- set part_list = parts | join(', ') -%}
        {%- set affected_sql -%}
            select distinct {{ part_list }} from {{ new_rows }}
            union
            select distinct {% for p in parts %}kept.{{ p }}{{ ', ' if not loop.last }}{% endfor %}
            from {{ target_relation }} as kept
            where {{ replaced }}
        {%- endset -%}
        {%- set rewritten_sql -%}
            select {{ columns }}
            from {{ target_relation }} as kept
            where ({{ part_list }}) in ({{ affected_sql }})
                and not {{ replaced }}
            union all
            select {{ columns }} from {{ new_rows }}
        {%- endset -%}
        {#- partitions that end empty: overwritten by nothing, so dropped -#}
        {%- set emptied = run_query(
            'select distinct ' ~ part_list ~ ' from (' ~ affected_sql ~ ') as affected '
            ~ 'where (' ~ part_list ~ ') not in (select ' ~ part_list ~ ' from (' ~ rewritten_sql ~ ') as rewritten)') -%}
        {%- for row in emptied.rows -%}
            {%- do run_query('alter table ' ~ target_relation ~ ' drop if exists partition ('
                ~ el_partition_spec(parts, row) ~ ')') -%}
        {%- endfor -%}
        {%- do run_query('insert overwrite table ' ~ target_relation ~ ' partition (' ~ part_list ~ ') '
            ~ rewritten_sql) -%}
    {%- else -%}
        {%- do run_query('create table ' ~ aside ~ ' using parquet as '
            ~ 'select ' ~ columns ~ ' from ' ~ target_relation ~ ' as kept where not ' ~ replaced
            ~ ' union all select ' ~ columns ~ ' from ' ~ new_rows ~ inserted) -%}
        {%- do run_query('drop table if exists ' ~ new_rows) -%}
        {%- do run_query('drop table ' ~ target_relation) -%}
    {%- endif %}
    {%- if parts %}
    drop table if exists {{ new_rows }}
    {%- else %}
    alter table {{ aside }} rename to {{ target_relation }}
    {%- endif %}
{% endmacro %}


{#- A work table beside `relation`, in its schema. -#}
{% macro el_work_relation(relation, suffix) %}
    {{ return(relation.incorporate(path={"identifier": relation.identifier ~ suffix})) }}
{% endmacro %}


{#- `p = value, ...` for ALTER TABLE ... PARTITION: a row of partition values as SQL literals. -#}
{% macro el_partition_spec(parts, row) -%}
    {%- for p in parts -%}
        {{ p }} = '{{ row[loop.index0] }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
