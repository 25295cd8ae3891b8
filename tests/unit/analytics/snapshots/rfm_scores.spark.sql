WITH window_orders AS (
  SELECT
    k.profile_key,
    k.profile_id,
    o.ordered_at,
    o.total_amount
  FROM orders AS o
  JOIN profile_keys AS k
    ON k.ref_type = o.customer_ref_type AND k.ref_value = o.customer_ref
  WHERE
    o.ordered_at >= CAST('2025-11-01 00:00:00+00' AS TIMESTAMP)
    AND o.ordered_at < CAST('2026-11-01 00:00:00+00' AS TIMESTAMP)
    AND (
      o.status IS NULL OR NOT LOWER(o.status) IN ('cancelled', 'refunded')
    )
), measures AS (
  SELECT
    ANY_VALUE(profile_id) IGNORE NULLS AS profile_id,
    DATEDIFF(DAY, CAST(MAX(ordered_at) AS DATE), CAST('2026-10-31' AS DATE)) AS recency_days,
    COUNT(*) AS frequency,
    COALESCE(SUM(total_amount), 0) AS monetary,
    MIN(ordered_at) AS first_order_at,
    MAX(ordered_at) AS last_order_at
  FROM window_orders
  GROUP BY
    profile_key
), ranked AS (
  SELECT
    *,
    RANK() OVER (ORDER BY recency_days DESC) - 1 AS r_worse,
    RANK() OVER (ORDER BY frequency NULLS LAST) - 1 AS f_worse,
    RANK() OVER (ORDER BY monetary NULLS LAST) - 1 AS m_worse,
    COUNT(*) OVER () AS n
  FROM measures
)
SELECT
  profile_id,
  CAST(recency_days AS INT) AS recency_days,
  CAST(frequency AS INT) AS frequency,
  monetary,
  first_order_at,
  last_order_at,
  CAST(1 + FLOOR(5 * r_worse / n) AS INT) AS r_score,
  CAST(1 + FLOOR(5 * f_worse / n) AS INT) AS f_score,
  CAST(1 + FLOOR(5 * m_worse / n) AS INT) AS m_score
FROM ranked
ORDER BY
  profile_id NULLS LAST