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
), coded AS (
  SELECT
    person,
    bd,
    s1,
    ts,
    ms,
    (
      SHIFTLEFT(ms, 11)
    ) + CASE WHEN s1 THEN 1 ELSE 0 END + CASE WHEN s2 THEN 2 ELSE 0 END + CASE WHEN s3 THEN 4 ELSE 0 END + CASE WHEN x THEN 1024 ELSE 0 END AS rn
  FROM timed
), lists AS (
  SELECT
    pk,
    MIN(person) AS person,
    MIN(person) <> MAX(person) AS mixed,
    COLLECT_LIST(rn) AS codes
  FROM (
    SELECT
      PERSON_KEY(person) AS pk,
      person,
      rn
    FROM coded
    ORDER BY
      pk NULLS LAST
  ) AS o
  GROUP BY
    pk
), c1 AS (
  SELECT
    l.pk,
    l.person,
    l.mixed,
    c.bd,
    c.rn AS r0,
    c.ms AS m0,
    c.rn AS r1,
    l.codes
  FROM coded AS c
  JOIN lists AS l
    ON l.pk = PERSON_KEY(c.person)
  WHERE
    c.s1 AND ts < CAST('2026-11-01 00:00:00+00' AS TIMESTAMP)
), c2 AS (
  SELECT
    *,
    CASE WHEN x2 IS NULL OR t2 < x2 THEN t2 END AS r2
  FROM (
    SELECT
      *,
      CASE
        WHEN NOT r1 IS NULL
        THEN ARRAY_MIN(
          FILTER(
            codes,
            e -> (
              e & 2
            ) <> 0
            AND e > r1
            AND e <= (
              SHIFTLEFT((
                m0 + 1209600000
              ), 11)
            ) + 2047
          )
        )
      END AS t2,
      CASE
        WHEN NOT r1 IS NULL
        THEN ARRAY_MIN(FILTER(codes, e -> (
          e & 1024
        ) <> 0 AND e > r1))
      END AS x2
    FROM c1
  ) AS q
), c3 AS (
  SELECT
    *,
    CASE WHEN x3 IS NULL OR t3 < x3 THEN t3 END AS r3
  FROM (
    SELECT
      *,
      CASE
        WHEN NOT r2 IS NULL
        THEN ARRAY_MIN(
          FILTER(
            codes,
            e -> (
              e & 4
            ) <> 0
            AND e > r2
            AND e <= (
              SHIFTLEFT((
                m0 + 1209600000
              ), 11)
            ) + 2047
          )
        )
      END AS t3,
      CASE
        WHEN NOT r2 IS NULL
        THEN ARRAY_MIN(FILTER(codes, e -> (
          e & 1024
        ) <> 0 AND e > r2))
      END AS x3
    FROM c2
  ) AS q
), chain AS (
  SELECT
    pk,
    person,
    mixed,
    bd,
    r0,
    m0,
    SHIFTRIGHT(r1, 11) AS m1,
    SHIFTRIGHT(r2, 11) AS m2,
    SHIFTRIGHT(r3, 11) AS m3,
    CASE WHEN NOT r3 IS NULL THEN 3 WHEN NOT r2 IS NULL THEN 2 ELSE 1 END AS lvl
  FROM c3
), best AS (
  SELECT
    BOOL_OR(mixed) AS mixed,
    MIN_BY(STRUCT(bd, m0, m1, m2, m3), STRUCT(-lvl AS l, r0 AS r)) AS b
  FROM chain
  WHERE
    lvl >= 1
  GROUP BY
    pk
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
