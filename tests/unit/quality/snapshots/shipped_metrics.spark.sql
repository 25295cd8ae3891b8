-- pos_orders_per_store
SELECT
  CAST(DATE_TRUNC('MONTH', `ordered_at`) AS DATE) AS period,
  CAST(`store_id` AS STRING) AS dim_0,
  CAST(`source` AS STRING) AS drill_0,
  (
    COUNT(*)
  ) AS num,
  CAST(NULL AS DOUBLE) AS den
FROM `orders` AS m
WHERE
  NOT `ordered_at` IS NULL
  AND (
    channel = 'pos'
  )
  AND `ordered_at` >= CAST('2025-10-01' AS DATE)
GROUP BY
  1,
  2,
  3;

-- orders_per_channel
SELECT
  CAST(DATE_TRUNC('MONTH', `ordered_at`) AS DATE) AS period,
  CAST(`channel` AS STRING) AS dim_0,
  CAST(`source` AS STRING) AS drill_0,
  CAST(`store_id` AS STRING) AS drill_1,
  (
    COUNT(*)
  ) AS num,
  CAST(NULL AS DOUBLE) AS den
FROM `orders` AS m
WHERE
  NOT `ordered_at` IS NULL AND `ordered_at` >= CAST('2025-10-01' AS DATE)
GROUP BY
  1,
  2,
  3,
  4;

-- revenue_per_channel
SELECT
  CAST(DATE_TRUNC('MONTH', `ordered_at`) AS DATE) AS period,
  CAST(`channel` AS STRING) AS dim_0,
  CAST(`source` AS STRING) AS drill_0,
  CAST(`store_id` AS STRING) AS drill_1,
  (
    SUM(total_amount)
  ) AS num,
  CAST(NULL AS DOUBLE) AS den
FROM `orders` AS m
WHERE
  NOT `ordered_at` IS NULL
  AND (
    status = 'completed'
  )
  AND `ordered_at` >= CAST('2025-10-01' AS DATE)
GROUP BY
  1,
  2,
  3,
  4;

-- repurchase_rate_by_region
WITH o AS (
  SELECT
    customer_ref AS customer,
    ordered_at,
    source,
    store_id,
    CAST(DATE_TRUNC('MONTH', ordered_at) AS DATE) AS month
  FROM orders
  WHERE
    customer_ref_type = 'member_id' AND status <> 'cancelled'
), region AS (
  SELECT
    member_id AS customer,
    MIN(city) AS region
  FROM customer_records
  WHERE
    NOT member_id IS NULL AND NOT city IS NULL
  GROUP BY
    1
), bought AS (
  SELECT DISTINCT
    customer,
    month
  FROM o
), months AS (
  SELECT DISTINCT
    month
  FROM bought
), active AS (
  SELECT DISTINCT
    m.month,
    b.customer
  FROM months AS m
  JOIN bought AS b
    ON b.month < m.month AND b.month >= m.month - INTERVAL '12' MONTH
), again AS (
  SELECT
    customer,
    month,
    source,
    store_id,
    ROW_NUMBER() OVER (PARTITION BY customer, month ORDER BY ordered_at NULLS LAST) AS nth
  FROM o
)
SELECT
  CAST(DATE_TRUNC('MONTH', `month`) AS DATE) AS period,
  CAST(`region` AS STRING) AS dim_0,
  CAST(`source` AS STRING) AS drill_0,
  CAST(`store_id` AS STRING) AS drill_1,
  (
    COUNT(*) FILTER(WHERE
      bought)
  ) AS num,
  (
    COUNT(*)
  ) AS den
FROM (
  SELECT
    a.month,
    r.region,
    g.source,
    g.store_id,
    NOT g.customer IS NULL AS bought
  FROM active AS a
  JOIN region AS r
    ON r.customer = a.customer
  LEFT JOIN again AS g
    ON g.customer = a.customer AND g.month = a.month AND g.nth = 1
) AS m
WHERE
  NOT `month` IS NULL AND `month` >= CAST('2025-10-01' AS DATE)
GROUP BY
  1,
  2,
  3,
  4;
