{#
    Column standardisers. A contract marks a column with `standardize: <kind>`; the generated
    staging model wraps it in the macro of that kind. Each dispatches, so DuckDB and Spark get
    their own spelling of the same rule.
#}

{% macro standardize(kind, column) -%}
    {%- if kind == 'email' -%} {{ std_email(column) }}
    {%- elif kind == 'phone' -%} {{ std_phone(column) }}
    {%- elif kind == 'name' -%} {{ std_name(column) }}
    {%- elif kind == 'state' -%} {{ std_state(column) }}
    {%- elif kind == 'postcode' -%} {{ std_postcode(column) }}
    {%- elif kind == 'address' -%} {{ std_address(column) }}
    {%- else -%} {{ exceptions.raise_compiler_error("unknown standardizer '" ~ kind ~ "' for column " ~ column) }}
    {%- endif -%}
{%- endmacro %}

{# Trimmed, lower-cased; blank becomes null. Plus-tags are kept: they are part of the address
   the customer typed, and matching strips them itself. #}
{% macro std_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{# E.164: digits only; 10 digits are a US number without country code, 11 digits starting
   with 1 already carry it; anything else cannot be dialled and becomes null. #}
{% macro std_phone(column) -%}
    {{ return(adapter.dispatch('std_phone', 'engagement_lake')(column)) }}
{%- endmacro %}

{% macro default__std_phone(column) -%}
    case
        when length(regexp_replace({{ column }}, '[^0-9]', '')) = 10
            then concat('+1', regexp_replace({{ column }}, '[^0-9]', ''))
        when length(regexp_replace({{ column }}, '[^0-9]', '')) = 11
            and left(regexp_replace({{ column }}, '[^0-9]', ''), 1) = '1'
            then concat('+', regexp_replace({{ column }}, '[^0-9]', ''))
    end
{%- endmacro %}

{% macro duckdb__std_phone(column) -%}
    case
        when length(regexp_replace({{ column }}, '[^0-9]', '', 'g')) = 10
            then '+1' || regexp_replace({{ column }}, '[^0-9]', '', 'g')
        when length(regexp_replace({{ column }}, '[^0-9]', '', 'g')) = 11
            and left(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 1) = '1'
            then '+' || regexp_replace({{ column }}, '[^0-9]', '', 'g')
    end
{%- endmacro %}

{# Consistent name case: single spaces, each word capitalised ("o'NEIL  smith" -> "O'neil Smith"). #}
{% macro std_name(column) -%}
    {{ return(adapter.dispatch('std_name', 'engagement_lake')(column)) }}
{%- endmacro %}

{% macro default__std_name(column) -%}
    nullif(initcap(trim(regexp_replace({{ column }}, '\\s+', ' '))), '')
{%- endmacro %}

{% macro duckdb__std_name(column) -%}
    nullif(
        array_to_string(
            list_transform(
                string_split(lower(trim(regexp_replace({{ column }}, '\s+', ' ', 'g'))), ' '),
                w -> upper(left(w, 1)) || substr(w, 2)
            ),
            ' '
        ),
        ''
    )
{%- endmacro %}

{% macro std_state(column) -%}
    nullif(upper(trim({{ column }})), '')
{%- endmacro %}

{# Five-digit ZIP: ZIP+4 and stray characters are dropped; fewer than five digits is unknown. #}
{% macro std_postcode(column) -%}
    {{ return(adapter.dispatch('std_postcode', 'engagement_lake')(column)) }}
{%- endmacro %}

{% macro default__std_postcode(column) -%}
    case when length(regexp_replace({{ column }}, '[^0-9]', '')) >= 5
        then left(regexp_replace({{ column }}, '[^0-9]', ''), 5) end
{%- endmacro %}

{% macro duckdb__std_postcode(column) -%}
    case when length(regexp_replace({{ column }}, '[^0-9]', '', 'g')) >= 5
        then left(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 5) end
{%- endmacro %}

{# Street lines keep their words (matching normalises abbreviations); only case and spacing. #}
{% macro std_address(column) -%}
    {{ std_name(column) }}
{%- endmacro %}
