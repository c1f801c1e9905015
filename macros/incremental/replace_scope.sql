{#
    Incremental by scope: a run replaces every row of each scope it brings (a customer's
    journey), not only the rows whose key it brings.

    A model whose rows depend on each other within a group (a customer's touchpoints are
    numbered in time order, each knows the one before) cannot replace rows one by one: a late
    touchpoint renumbers everything after it. Such a model sets `replace_scope` (the group's
    column) besides `unique_key` (the row's key); an incremental run then emits every row of
    each group whose inputs changed, and the strategy deletes all the stored rows of those groups
    before inserting the new ones. A row that moved to another group (a customer absorbed by a
    merge) changed both groups, so both are replaced.

    A group can also lose every row (a customer whose only order was cancelled): it then has no
    new row to name it, so the model emits one tombstone for it, a row with the group's column
    set and every other column null. The strategy deletes the group's rows and inserts no row
    whose key is null (the table's enforced not-null key would refuse one anyway).

    The same config drives both adapters' strategy: DuckDB's delete+insert (below) and Spark's
    insert_overwrite (macros/spark/insert_overwrite.sql). A model without `replace_scope` keeps
    dbt's delete+insert by `unique_key`.
#}

{% macro get_incremental_delete_insert_sql(arg_dict) %}
    {%- set scope = config.get('replace_scope') -%}
    {%- if scope is none -%}
        {{ return(get_delete_insert_merge_sql(
            arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'],
            arg_dict['dest_columns'], arg_dict['incremental_predicates'])) }}
    {%- endif -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ scope }} in (select {{ scope }} from {{ source }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    where {% for key in keys %}{{ key }} is not null{{ ' and ' if not loop.last }}{% endfor %}
{% endmacro %}


{#- The scopes a daily run rebuilds, as a query of one column, `scope`. `current` (a CTE or
    relation) holds every row's inputs as the run would compute them, in the table's types: the
    row's natural key `keys`, its `scope` and the other `columns` the model's values are computed
    from. Joined with what the table holds on the natural key, a row on one side only, or with
    `scope` or any of `columns` changed, names its scope on either side (a row that moved to
    another scope names both); every other scope would get exactly the rows it has. -#}
{% macro changed_scopes(current, scope, keys, columns) -%}
    {{ return(adapter.dispatch('changed_scopes', 'engagement_lake')(current, scope, keys, columns)) }}
{%- endmacro %}

{#- Spark: every compared column on both sides of the join, compared exactly (its executors
    spill the join; its 64-bit hash, xxhash64, skips null arguments, so two rows differing only
    in which column is null could hash alike). -#}
{% macro default__changed_scopes(current, scope, keys, columns) -%}
    {%- set compared = [scope] + columns -%}
    {%- set selected = keys + (compared | reject('in', keys) | list) -%}
    with scope_changes as (
        select
            current_rows.{{ scope }} as current_scope,
            built_rows.{{ scope }} as built_scope
        from {{ current }} as current_rows
        full outer join (
            select {{ selected | join(', ') }}
            from {{ this }}
        ) as built_rows
            on {% for key in keys %}current_rows.{{ key }} = built_rows.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
        where {% for column in compared %}current_rows.{{ column }} is distinct from built_rows.{{ column }}
            {{- '\n            or ' if not loop.last }}{% endfor %}
    )
    select current_scope as {{ scope }} from scope_changes where current_scope is not null
    union
    select built_scope as {{ scope }} from scope_changes where built_scope is not null
{%- endmacro %}

{#- DuckDB: each side narrowed to its key, its scope and one 64-bit hash of the compared columns
    before the join. With every column on both sides, the join of the journey's 29.5 million rows
    at scale 10 filled the disk with spill files, and the attribution's 14.5 million ran out of
    the 8 GB memory limit, where the full build of both passes. A changed row is missed only if
    its old and new values hash alike: about one chance in 2^64 per changed row, the bound the
    serving file's update accepts too (engagement_lake.publish). DuckDB's hash tells a null from
    a value in each position, and both sides hash the same types (`current` is cast to the
    table's). -#}
{% macro duckdb__changed_scopes(current, scope, keys, columns) -%}
    {%- set compared = [scope] + (columns | reject('in', keys) | list) -%}
    {%- set key_list = keys | join(', ') -%}
    {%- set row_hash = 'hash(' ~ (compared | join(', ')) ~ ')' -%}
    with scope_changes as (
        select
            current_rows.el_scope as current_scope,
            built_rows.el_scope as built_scope
        from (
            select {{ key_list }}, {{ scope }} as el_scope, {{ row_hash }} as el_row_hash
            from {{ current }}
        ) as current_rows
        full outer join (
            select {{ key_list }}, {{ scope }} as el_scope, {{ row_hash }} as el_row_hash
            from {{ this }}
        ) as built_rows
            on {% for key in keys %}current_rows.{{ key }} = built_rows.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
        where current_rows.el_row_hash is distinct from built_rows.el_row_hash
    )
    select current_scope as {{ scope }} from scope_changes where current_scope is not null
    union
    select built_scope as {{ scope }} from scope_changes where built_scope is not null
{%- endmacro %}
