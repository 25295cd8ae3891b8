-- customer_records [rows]: member_phone_present, customer_phone_format, customer_email_format, customer_resident_id_format, customer_gender_values, customer_birthday_range, member_level_values
SELECT t.source AS source, CAST(t."updated_at" AS DATE) AS day,
  count(*) FILTER (WHERE (source = 'crm_members') AND TRUE) AS r0_checked,
  count(*) FILTER (WHERE (source = 'crm_members') AND TRUE AND (t."phone" IS NULL OR trim(t."phone") = '')) AS r0_failed,
  count(*) FILTER (WHERE t."phone" IS NOT NULL) AS r1_checked,
  count(*) FILTER (WHERE t."phone" IS NOT NULL AND NOT regexp_matches(t."phone", '^(?:(\+86|0086)?[ -]?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4})$')) AS r1_failed,
  count(*) FILTER (WHERE t."email" IS NOT NULL) AS r2_checked,
  count(*) FILTER (WHERE t."email" IS NOT NULL AND NOT regexp_matches(t."email", '^(?:[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})$')) AS r2_failed,
  count(*) FILTER (WHERE t."resident_id" IS NOT NULL) AS r3_checked,
  count(*) FILTER (WHERE t."resident_id" IS NOT NULL AND NOT regexp_matches(t."resident_id", '^(?:[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx])$')) AS r3_failed,
  count(*) FILTER (WHERE t."gender" IS NOT NULL) AS r4_checked,
  count(*) FILTER (WHERE t."gender" IS NOT NULL AND t."gender" NOT IN ('F', 'M')) AS r4_failed,
  count(*) FILTER (WHERE t."birthday" IS NOT NULL) AS r5_checked,
  count(*) FILTER (WHERE t."birthday" IS NOT NULL AND (t."birthday" < DATE '1900-01-01' OR t."birthday" > DATE '2026-12-31')) AS r5_failed,
  count(*) FILTER (WHERE t."member_level" IS NOT NULL) AS r6_checked,
  count(*) FILTER (WHERE t."member_level" IS NOT NULL AND t."member_level" NOT IN ('普通会员', '银卡会员', '金卡会员', '钻石会员')) AS r6_failed
FROM "customer_records" AS t
GROUP BY 1, 2;

-- profiles [rows]: profile_phone_present, profile_email_present
SELECT '' AS source, CAST(t."updated_at" AS DATE) AS day,
  count(*) FILTER (WHERE TRUE) AS r0_checked,
  count(*) FILTER (WHERE TRUE AND (t."phone" IS NULL OR trim(t."phone") = '')) AS r0_failed,
  count(*) FILTER (WHERE TRUE) AS r1_checked,
  count(*) FILTER (WHERE TRUE AND (t."email" IS NULL OR trim(t."email") = '')) AS r1_failed
FROM "profiles" AS t
GROUP BY 1, 2;

-- orders [rows]: order_total_not_negative, order_status_values, order_member_exists, order_address_matches_delivery
SELECT t.source AS source, CAST(t."ordered_at" AS DATE) AS day,
  count(*) FILTER (WHERE t."total_amount" IS NOT NULL) AS r0_checked,
  count(*) FILTER (WHERE t."total_amount" IS NOT NULL AND (t."total_amount" < 0.0)) AS r0_failed,
  count(*) FILTER (WHERE t."status" IS NOT NULL) AS r1_checked,
  count(*) FILTER (WHERE t."status" IS NOT NULL AND t."status" NOT IN ('completed', 'refunded', 'cancelled', 'shipped', 'pending')) AS r1_failed,
  count(*) FILTER (WHERE (customer_ref_type = 'member_id') AND t."customer_ref" IS NOT NULL) AS r2_checked,
  count(*) FILTER (WHERE (customer_ref_type = 'member_id') AND t."customer_ref" IS NOT NULL AND ref2.v IS NULL) AS r2_failed,
  count(*) FILTER (WHERE (channel = 'online') AND t."ship_to_address" IS NOT NULL AND oth3.v IS NOT NULL) AS r3_checked,
  count(*) FILTER (WHERE (channel = 'online') AND t."ship_to_address" IS NOT NULL AND oth3.v IS NOT NULL AND regexp_replace(nfc_normalize(CAST(t."ship_to_address" AS VARCHAR)), '\s+', '', 'g') <> regexp_replace(nfc_normalize(CAST(oth3.v AS VARCHAR)), '\s+', '', 'g')) AS r3_failed
FROM "orders" AS t
LEFT JOIN (SELECT DISTINCT "member_id" AS v FROM "customer_records") AS ref2 ON t."customer_ref" = ref2.v
LEFT JOIN (SELECT "order_source_key" AS k0, min("ship_to_address") AS v FROM "deliveries" WHERE "ship_to_address" IS NOT NULL GROUP BY 1) AS oth3 ON t."source_key" = oth3.k0
GROUP BY 1, 2;

-- order_lines [rows]: order_line_order_exists
SELECT t.source AS source, CAST(t."loaded_at" AS DATE) AS day,
  count(*) FILTER (WHERE t."order_id" IS NOT NULL) AS r0_checked,
  count(*) FILTER (WHERE t."order_id" IS NOT NULL AND ref0.v IS NULL) AS r0_failed
FROM "order_lines" AS t
LEFT JOIN (SELECT DISTINCT "order_id" AS v FROM "orders") AS ref0 ON t."order_id" = ref0.v
GROUP BY 1, 2;

-- interactions [rows]: complaint_type_present, review_rating_range
SELECT t.source AS source, CAST(t."created_at" AS DATE) AS day,
  count(*) FILTER (WHERE (kind = 'ticket') AND TRUE) AS r0_checked,
  count(*) FILTER (WHERE (kind = 'ticket') AND TRUE AND (t."complaint_type" IS NULL OR trim(t."complaint_type") = '')) AS r0_failed,
  count(*) FILTER (WHERE t."rating" IS NOT NULL) AS r1_checked,
  count(*) FILTER (WHERE t."rating" IS NOT NULL AND (t."rating" < 1.0 OR t."rating" > 5.0)) AS r1_failed
FROM "interactions" AS t
GROUP BY 1, 2;

-- events [rows]: event_type_values, identify_traits_phone_format
SELECT t.source AS source, CAST(t."timestamp" AS DATE) AS day,
  count(*) FILTER (WHERE t."type" IS NOT NULL) AS r0_checked,
  count(*) FILTER (WHERE t."type" IS NOT NULL AND t."type" NOT IN ('track', 'identify', 'page', 'screen', 'group', 'alias')) AS r0_failed,
  count(*) FILTER (WHERE (type = 'identify') AND json_extract_string(t."traits", '$.phone') IS NOT NULL) AS r1_checked,
  count(*) FILTER (WHERE (type = 'identify') AND json_extract_string(t."traits", '$.phone') IS NOT NULL AND NOT regexp_matches(json_extract_string(t."traits", '$.phone'), '^(?:(\+86|0086)?[ -]?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4})$')) AS r1_failed
FROM "events" AS t
GROUP BY 1, 2;

-- customer_records [unique]: customer_source_key_unique
SELECT source, day, count(*) AS checked, count(*) FILTER (WHERE n > 1) AS failed
FROM (SELECT source AS source, CAST("updated_at" AS DATE) AS day, count(*) OVER (PARTITION BY "source", "source_key") AS n
  FROM "customer_records" WHERE "source" IS NOT NULL AND "source_key" IS NOT NULL) AS keyed
GROUP BY 1, 2;

-- customer_records [custom_sql]: member_level_matches_spend
WITH spend AS (
  SELECT customer_ref AS member_id, sum(total_amount) AS amount
  FROM orders
  WHERE customer_ref_type = 'member_id' AND status = 'completed'
    AND ordered_at >= (SELECT max(ordered_at) FROM orders) - INTERVAL 365 DAY
  GROUP BY 1
)
SELECT c.source AS source, count(*) AS checked,
       count(*) FILTER (WHERE (c.member_level = '钻石会员' AND coalesce(s.amount, 0) < 3000)
                           OR (c.member_level = '金卡会员' AND coalesce(s.amount, 0) < 1500)) AS failed
FROM customer_records AS c LEFT JOIN spend AS s ON c.member_id = s.member_id
WHERE c.member_level IN ('金卡会员', '钻石会员')
GROUP BY 1;

-- profile_identifiers [max_per_key]: phones_per_person
SELECT '' AS source, CAST(NULL AS DATE) AS day, count(*) AS checked, count(*) FILTER (WHERE n > 2) AS failed
FROM (SELECT "profile_id", count(DISTINCT "id_value_normalized") AS n FROM "profile_identifiers"
WHERE id_type = 'phone' GROUP BY "profile_id") AS per_key;

-- orders [volume]: pos_store_monthly_volume
SELECT source AS source, CAST(date_trunc('month', "ordered_at") AS DATE) AS day, CAST("store_id" AS VARCHAR) AS "by_store_id", count(*) AS n
FROM "orders"
WHERE "ordered_at" IS NOT NULL AND (channel = 'pos') AND "ordered_at" >= DATE '2025-11-01'
GROUP BY 1, 2, 3;

-- events [freshness]: source_loads_fresh
SELECT source AS source, max("loaded_at") AS newest FROM "events" GROUP BY 1;
