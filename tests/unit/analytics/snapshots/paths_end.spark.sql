WITH base AS (
  SELECT
    COALESCE(
      ku.profile_id,
      ka.profile_id,
      COALESCE('user:' || e.user_id, 'anon:' || e.anonymous_id)
    ) AS person,
    e.`timestamp` AS ts,
    e.message_id,
    COALESCE(e.event, e.name) AS label,
    REGEXP_REPLACE(COALESCE(e.event, e.name), '^Product Detail$', 'Product') AS node
  FROM events AS e
  LEFT JOIN profile_keys AS ku
    ON ku.ref_type = 'user_id' AND ku.ref_value = e.user_id
  LEFT JOIN profile_keys AS ka
    ON ka.ref_type = 'anonymous_id' AND ka.ref_value = e.anonymous_id
  WHERE
    (
      e.type IN ('track', 'page', 'screen')
    ) AND (
      NOT e.`timestamp` IS NULL
    )
), gaps AS (
  SELECT
    person,
    ts,
    message_id,
    node,
    LAG(node) OVER (PARTITION BY person ORDER BY ts NULLS LAST, message_id NULLS LAST) AS prev_node,
    CASE
      WHEN LAG(ts) OVER (PARTITION BY person ORDER BY ts NULLS LAST, message_id NULLS LAST) IS NULL
      OR DATEDIFF(
        SECOND,
        LAG(ts) OVER (PARTITION BY person ORDER BY ts NULLS LAST, message_id NULLS LAST),
        ts
      ) > 1800
      THEN 1
      ELSE 0
    END AS new_session
  FROM base
), sess AS (
  SELECT
    *,
    SUM(new_session) OVER (
      PARTITION BY person
      ORDER BY ts NULLS LAST, message_id NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS sid
  FROM gaps
), kept AS (
  SELECT
    *
  FROM sess
  WHERE
    new_session = 1 OR node <> prev_node
), pos AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY person, sid ORDER BY ts NULLS LAST, message_id NULLS LAST) AS pos
  FROM kept
), anchor AS (
  SELECT
    person,
    sid,
    MAX(pos) AS apos
  FROM pos
  WHERE
    node = 'Order Completed'
  GROUP BY
    person,
    sid
), walk AS (
  SELECT
    p.person,
    p.sid,
    CAST(p.pos - a.apos AS INT) AS step,
    p.node,
    LEAD(p.node) OVER (PARTITION BY p.person, p.sid ORDER BY p.pos NULLS LAST) AS nxt,
    LAG(p.node) OVER (PARTITION BY p.person, p.sid ORDER BY p.pos NULLS LAST) AS prv
  FROM pos AS p
  JOIN anchor AS a
    ON p.person = a.person AND p.sid = a.sid
  WHERE
    p.pos BETWEEN a.apos - 3 AND a.apos
), links AS (
  SELECT
    person,
    step,
    node AS source,
    nxt AS target
  FROM walk
  WHERE
    NOT nxt IS NULL
  UNION ALL
  SELECT
    person,
    step - 1,
    '(start)',
    node
  FROM walk
  WHERE
    prv IS NULL AND step > -3
), whole AS (
  SELECT
    person,
    CONCAT_WS(
      ' > ',
      MAX(CASE WHEN step = -3 THEN node END),
      MAX(CASE WHEN step = -2 THEN node END),
      MAX(CASE WHEN step = -1 THEN node END),
      MAX(CASE WHEN step = 0 THEN node END)
    ) AS path
  FROM walk
  GROUP BY
    person,
    sid
), ranked AS (
  SELECT
    path,
    COUNT(*) AS sessions,
    COUNT(DISTINCT person) AS persons,
    ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, path NULLS LAST) AS rank
  FROM whole
  GROUP BY
    path
)
SELECT
  'node' AS kind,
  step,
  node AS source,
  CAST(NULL AS STRING) AS target,
  CAST(NULL AS STRING) AS path,
  CAST(NULL AS INT) AS rank,
  COUNT(*) AS sessions,
  COUNT(DISTINCT person) AS persons
FROM walk
GROUP BY
  step,
  node
UNION ALL
SELECT
  'link',
  step,
  source,
  target,
  CAST(NULL AS STRING),
  CAST(NULL AS INT),
  COUNT(*),
  COUNT(DISTINCT person)
FROM links
GROUP BY
  step,
  source,
  target
UNION ALL
SELECT
  'path',
  CAST(NULL AS INT),
  CAST(NULL AS STRING),
  CAST(NULL AS STRING),
  path,
  CAST(rank AS INT),
  sessions,
  persons
FROM ranked
WHERE
  rank <= 20;
