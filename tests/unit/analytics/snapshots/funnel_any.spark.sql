WITH base AS (
  SELECT
    COALESCE(
      CAST(COALESCE(ku.profile_key, ka.profile_key) AS STRING),
      COALESCE('user:' || e.user_id, 'anon:' || e.anonymous_id)
    ) AS person,
    e.`timestamp` AS ts,
    e.message_id,
    COALESCE(e.event, e.name) AS label,
    (
      COALESCE(e.event, e.name) = 'Product Viewed'
      AND GET_JSON_OBJECT(e.properties, '$.category') = '连衣裙'
    ) AS s1,
    (
      COALESCE(e.event, e.name) = 'Product Added'
    ) AS s2,
    (
      COALESCE(e.event, e.name) = 'Order Completed'
    ) AS s3,
    (
      COALESCE(e.event, e.name) = 'Signed Up'
    ) AS x,
    GET_JSON_OBJECT(e.properties, '$.category') AS bd
  FROM events AS e
  LEFT JOIN profile_keys AS ku
    ON ku.ref_type = 'user_id' AND ku.ref_value = e.user_id
  LEFT JOIN profile_keys AS ka
    ON ka.ref_type = 'anonymous_id' AND ka.ref_value = e.anonymous_id
  WHERE
    (
      e.type IN ('track', 'page', 'screen')
    )
    AND (
      NOT e.`timestamp` IS NULL
    )
    AND (
      e.event_date >= CAST('2026-05-01' AS DATE)
    )
    AND (
      e.`timestamp` >= CAST('2026-05-01 00:00:00+00' AS TIMESTAMP)
    )
    AND (
      e.event_date <= CAST('2026-11-15' AS DATE)
    )
    AND (
      e.`timestamp` < CAST('2026-11-15 00:00:00+00' AS TIMESTAMP)
    )
    AND (
      (
        COALESCE(e.event, e.name) = 'Product Viewed'
        AND GET_JSON_OBJECT(e.properties, '$.category') = '连衣裙'
      )
      OR (
        COALESCE(e.event, e.name) = 'Product Added'
      )
      OR (
        COALESCE(e.event, e.name) = 'Order Completed'
      )
      OR (
        COALESCE(e.event, e.name) = 'Signed Up'
      )
    )
), timed AS (
  SELECT
    *,
    UNIX_MILLIS(ts) AS ms
  FROM base
), ordered AS (
  SELECT
    *,
    ms * 1048576 + CAST(ABS(HASH(message_id) % 1048576) AS BIGINT) AS rn
  FROM timed
), links AS (
  SELECT
    person,
    rn,
    ms,
    ts,
    bd,
    s1 OR s2 OR s3 AS anchor,
    MIN(CASE WHEN s1 THEN ms END) OVER (
      PARTITION BY person
      ORDER BY rn DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS f1,
    MIN(CASE WHEN s1 THEN rn END) OVER (
      PARTITION BY person
      ORDER BY rn DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS g1,
    MIN(CASE WHEN s2 THEN ms END) OVER (
      PARTITION BY person
      ORDER BY rn DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS f2,
    MIN(CASE WHEN s2 THEN rn END) OVER (
      PARTITION BY person
      ORDER BY rn DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS g2,
    MIN(CASE WHEN s3 THEN ms END) OVER (
      PARTITION BY person
      ORDER BY rn DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS f3,
    MIN(CASE WHEN s3 THEN rn END) OVER (
      PARTITION BY person
      ORDER BY rn DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS g3,
    MIN(CASE WHEN x THEN rn END) OVER (
      PARTITION BY person
      ORDER BY rn DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS nx
  FROM ordered
), levels AS (
  SELECT
    person,
    bd,
    rn AS r0,
    ms AS m0,
    f1,
    f2,
    f3,
    CASE
      WHEN (
        f1 <= ms + 1209600000 AND (
          nx IS NULL OR g1 < nx
        )
      )
      AND (
        f2 <= ms + 1209600000 AND (
          nx IS NULL OR g2 < nx
        )
      )
      AND (
        f3 <= ms + 1209600000 AND (
          nx IS NULL OR g3 < nx
        )
      )
      THEN 3
      WHEN (
        f1 <= ms + 1209600000 AND (
          nx IS NULL OR g1 < nx
        )
      )
      AND (
        f2 <= ms + 1209600000 AND (
          nx IS NULL OR g2 < nx
        )
      )
      THEN 2
      WHEN (
        f1 <= ms + 1209600000 AND (
          nx IS NULL OR g1 < nx
        )
      )
      THEN 1
      ELSE 0
    END AS lvl
  FROM links
  WHERE
    anchor AND ts < CAST('2026-11-01 00:00:00+00' AS TIMESTAMP)
), chain AS (
  SELECT
    person,
    bd,
    r0,
    m0,
    lvl,
    CASE WHEN lvl >= 1 THEN GREATEST(f1) END AS m1,
    CASE WHEN lvl >= 2 THEN GREATEST(f1, f2) END AS m2,
    CASE WHEN lvl >= 3 THEN GREATEST(f1, f2, f3) END AS m3
  FROM levels
), best AS (
  SELECT
    person,
    FALSE AS mixed,
    MIN_BY(STRUCT(bd, m0, m1, m2, m3), STRUCT(-lvl AS l, r0 AS r)) AS b
  FROM chain
  WHERE
    lvl >= 1
  GROUP BY
    person
), picked AS (
  SELECT
    COALESCE(t.b.bd, '(none)') AS bd,
    t.mixed,
    t.b.m0 AS m0,
    t.b.m1 AS m1,
    t.b.m2 AS m2,
    t.b.m3 AS m3
  FROM best AS t
)
SELECT
  bd,
  GROUPING(bd) = 1 AS is_total,
  COUNT(*) AS reached_1,
  COALESCE(BOOL_OR(mixed), FALSE) AS mixed,
  COUNT(m2) AS reached_2,
  MEDIAN((
    m2 - m1
  ) / 1000.0) AS med_2,
  AVG((
    m2 - m1
  ) / 1000.0) AS avg_2,
  MEDIAN((
    m2 - m0
  ) / 1000.0) AS start_2,
  COUNT(m3) AS reached_3,
  MEDIAN((
    m3 - m2
  ) / 1000.0) AS med_3,
  AVG((
    m3 - m2
  ) / 1000.0) AS avg_3,
  MEDIAN((
    m3 - m0
  ) / 1000.0) AS start_3
FROM picked
GROUP BY
  GROUPING SETS (
    (
      bd
    ),
    ()
  )
ORDER BY
  is_total NULLS LAST,
  bd NULLS LAST;
