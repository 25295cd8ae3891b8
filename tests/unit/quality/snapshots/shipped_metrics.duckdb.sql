-- pos_orders_per_store
SELECT CAST(date_trunc('month', "ordered_at") AS DATE) AS period,
  CAST("store_id" AS VARCHAR) AS dim_0,
  CAST("source" AS VARCHAR) AS drill_0,
  (count(*)) AS num,
  CAST(NULL AS DOUBLE) AS den
FROM "orders" AS m
WHERE "ordered_at" IS NOT NULL AND (channel = 'pos') AND "ordered_at" >= DATE '2025-10-01'
GROUP BY 1, 2, 3;

-- orders_per_channel
SELECT CAST(date_trunc('month', "ordered_at") AS DATE) AS period,
  CAST("channel" AS VARCHAR) AS dim_0,
  CAST("source" AS VARCHAR) AS drill_0,
  CAST("store_id" AS VARCHAR) AS drill_1,
  (count(*)) AS num,
  CAST(NULL AS DOUBLE) AS den
FROM "orders" AS m
WHERE "ordered_at" IS NOT NULL AND "ordered_at" >= DATE '2025-10-01'
GROUP BY 1, 2, 3, 4;

-- revenue_per_channel
SELECT CAST(date_trunc('month', "ordered_at") AS DATE) AS period,
  CAST("channel" AS VARCHAR) AS dim_0,
  CAST("source" AS VARCHAR) AS drill_0,
  CAST("store_id" AS VARCHAR) AS drill_1,
  (sum(total_amount)) AS num,
  CAST(NULL AS DOUBLE) AS den
FROM "orders" AS m
WHERE "ordered_at" IS NOT NULL AND (status = 'completed') AND "ordered_at" >= DATE '2025-10-01'
GROUP BY 1, 2, 3, 4;

-- repurchase_rate_by_region
SELECT CAST(date_trunc('month', "month") AS DATE) AS period,
  CAST("region" AS VARCHAR) AS dim_0,
  CAST("source" AS VARCHAR) AS drill_0,
  CAST("store_id" AS VARCHAR) AS drill_1,
  (count(*) FILTER (WHERE bought)) AS num,
  (count(*)) AS den
FROM (
WITH o AS (
  SELECT customer_ref AS customer, ordered_at, source, store_id,
         CAST(date_trunc('month', ordered_at) AS DATE) AS month
  FROM orders WHERE customer_ref_type = 'member_id' AND status <> 'cancelled'
),
region AS (
  SELECT member_id AS customer, min(city) AS region FROM customer_records
  WHERE member_id IS NOT NULL AND city IS NOT NULL GROUP BY 1
),
bought AS (SELECT DISTINCT customer, month FROM o),
months AS (SELECT DISTINCT month FROM bought),
active AS (
  SELECT DISTINCT m.month, b.customer FROM months AS m
  JOIN bought AS b ON b.month < m.month AND b.month >= m.month - INTERVAL 12 MONTH
),
again AS (
  SELECT customer, month, source, store_id,
         row_number() OVER (PARTITION BY customer, month ORDER BY ordered_at) AS nth
  FROM o
)
SELECT a.month, r.region, g.source, g.store_id, g.customer IS NOT NULL AS bought
FROM active AS a JOIN region AS r ON r.customer = a.customer
LEFT JOIN again AS g ON g.customer = a.customer AND g.month = a.month AND g.nth = 1
) AS m
WHERE "month" IS NOT NULL AND "month" >= DATE '2025-10-01'
GROUP BY 1, 2, 3, 4;
