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
    s1,
    s2,
    s3,
    bd,
    CASE
      WHEN LAG(s2) OVER (PARTITION BY person ORDER BY rn DESC)
      THEN LAG(rn) OVER (PARTITION BY person ORDER BY rn DESC)
    END AS n2,
    CASE
      WHEN LAG(s3) OVER (PARTITION BY person ORDER BY rn DESC)
      THEN LAG(rn) OVER (PARTITION BY person ORDER BY rn DESC)
    END AS n3
  FROM ordered
), c1 AS (
  SELECT
    person,
    bd,
    rn AS r0,
    ms AS m0,
    ms AS m1,
    n2 AS p2
  FROM links
  WHERE
    s1 AND ts < CAST('2026-11-01 00:00:00+00' AS TIMESTAMP)
), c2 AS (
  SELECT
    c.*,
    l.ms AS m2,
    l.n3 AS p3
  FROM c1 AS c
  LEFT JOIN (
    SELECT
      *
    FROM links
    WHERE
      s2
  ) AS l
    ON l.person = c.person AND l.rn = c.p2 AND l.ms <= c.m0 + 1209600000
), c3 AS (
  SELECT
    c.*,
    l.ms AS m3
  FROM c2 AS c
  LEFT JOIN (
    SELECT
      *
    FROM links
    WHERE
      s3
  ) AS l
    ON l.person = c.person AND l.rn = c.p3 AND l.ms <= c.m0 + 1209600000
), chain AS (
  SELECT
    *,
    CASE WHEN NOT m3 IS NULL THEN 3 WHEN NOT m2 IS NULL THEN 2 ELSE 1 END AS lvl
  FROM c3
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
