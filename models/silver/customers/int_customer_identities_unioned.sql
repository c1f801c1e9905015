-- One row per source identity record (shop customer, CRM contact, support requester, e-mail
-- subscriber, loyalty member), in one shape, ready for matching and survivorship. Sources that
-- keep one full-name field take first and last name from int_customer_full_names (parsed by
-- the nameparser library: "Smith, Mary", titles, suffixes, middle names). _loaded_at (when the
-- record's current version landed) dates the changes of customer_id_ledger.

-- The union is macros/customers/customer_identity_records.sql, shared with the history's
-- int_customer_identity_versions.

{{ customer_identity_records() }}
