
WITH window_orders AS (
  SELECT k.profile_key, k.profile_id, o.ordered_at, o.total_amount
  FROM orders o
  JOIN profile_keys k ON k.ref_type = o.customer_ref_type AND k.ref_value = o.customer_ref
  WHERE o.ordered_at >= TIMESTAMPTZ '2025-11-01 00:00:00+00'
    AND o.ordered_at < TIMESTAMPTZ '2026-11-01 00:00:00+00'
    AND (o.status IS NULL OR lower(o.status) NOT IN ('cancelled', 'refunded'))
), measures AS (
  SELECT any_value(profile_id) AS profile_id,
         date_diff('day', CAST(max(ordered_at) AS DATE), DATE '2026-10-31') AS recency_days,
         count(*) AS frequency,
         coalesce(sum(total_amount), 0) AS monetary,
         min(ordered_at) AS first_order_at,
         max(ordered_at) AS last_order_at
  FROM window_orders
  GROUP BY profile_key
), ranked AS (
  SELECT *,
         rank() OVER (ORDER BY recency_days DESC) - 1 AS r_worse,
         rank() OVER (ORDER BY frequency) - 1 AS f_worse,
         rank() OVER (ORDER BY monetary) - 1 AS m_worse,
         count(*) OVER () AS n
  FROM measures
)
SELECT profile_id, CAST(recency_days AS INTEGER) AS recency_days,
       CAST(frequency AS INTEGER) AS frequency, monetary, first_order_at, last_order_at,
       CAST(1 + floor(5 * r_worse / n) AS INTEGER) AS r_score,
       CAST(1 + floor(5 * f_worse / n) AS INTEGER) AS f_score,
       CAST(1 + floor(5 * m_worse / n) AS INTEGER) AS m_score
FROM ranked
ORDER BY profile_id
