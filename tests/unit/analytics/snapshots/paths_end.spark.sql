WITH base AS (
  SELECT
    *,
    PERSON_KEY(person) AS pk,
    UNIX_MILLIS(ts) AS ms
  FROM (
    SELECT
      COALESCE(
        CAST(COALESCE(ku.profile_key, ka.profile_key) AS STRING),
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
  ) AS s
), prev AS (
  SELECT
    pk,
    person,
    ms,
    node,
    ROW_NUMBER() OVER (PARTITION BY pk ORDER BY ts NULLS LAST, message_id NULLS LAST) AS rn,
    LAG(node) OVER (PARTITION BY pk ORDER BY ts NULLS LAST, message_id NULLS LAST) AS prev_node,
    LAG(ms) OVER (PARTITION BY pk ORDER BY ts NULLS LAST, message_id NULLS LAST) AS prev_ms,
    LAG(person) OVER (PARTITION BY pk ORDER BY ts NULLS LAST, message_id NULLS LAST) AS prev_person
  FROM base
), flags AS (
  SELECT
    pk,
    rn,
    node,
    prev_node,
    COALESCE(prev_person <> person, FALSE) AS mixed,
    CASE
      WHEN prev_ms IS NULL OR ms - prev_ms > 1800000 OR prev_person <> person
      THEN 1
      ELSE 0
    END AS new_session
  FROM prev
), kept AS (
  SELECT
    *
  FROM flags
  WHERE
    new_session = 1 OR node <> prev_node
), pos AS (
  SELECT
    pk,
    node,
    mixed,
    new_session,
    SUM(new_session) OVER (
      PARTITION BY pk
      ORDER BY rn NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS sid,
    ROW_NUMBER() OVER (PARTITION BY pk ORDER BY rn NULLS LAST) AS pos,
    LEAD(node) OVER (PARTITION BY pk ORDER BY rn NULLS LAST) AS next_node,
    COALESCE(LEAD(new_session) OVER (PARTITION BY pk ORDER BY rn NULLS LAST), 1) AS next_new,
    MAX(CASE WHEN node = 'Order Completed' THEN 1 ELSE 0 END) OVER (PARTITION BY pk ORDER BY rn NULLS LAST ROWS BETWEEN CURRENT ROW AND 3 FOLLOWING) AS near
  FROM kept
), anchor AS (
  SELECT
    pk,
    sid,
    MAX(pos) AS apos
  FROM pos
  WHERE
    node = 'Order Completed'
  GROUP BY
    pk,
    sid
), walk AS (
  SELECT
    p.pk,
    p.sid,
    CAST(p.pos - a.apos AS INT) AS step,
    p.node,
    CASE WHEN p.next_new = 0 AND p.pos < a.apos THEN p.next_node END AS nxt,
    p.new_session AS first
  FROM pos AS p
  JOIN anchor AS a
    ON p.pk = a.pk AND p.sid = a.sid
  WHERE
    p.near = 1 AND p.pos BETWEEN a.apos - 3 AND a.apos
), links AS (
  SELECT
    pk,
    step,
    node AS source,
    nxt AS target
  FROM walk
  WHERE
    NOT nxt IS NULL
  UNION ALL
  SELECT
    pk,
    step - 1,
    '(start)',
    node
  FROM walk
  WHERE
    first = 1 AND step > -3
), whole AS (
  SELECT
    pk,
    CONCAT_WS(
      ' > ',
      MAX(CASE WHEN step = -3 THEN node END),
      MAX(CASE WHEN step = -2 THEN node END),
      MAX(CASE WHEN step = -1 THEN node END),
      MAX(CASE WHEN step = 0 THEN node END)
    ) AS path
  FROM walk
  GROUP BY
    pk,
    sid
), ranked AS (
  SELECT
    path,
    COUNT(*) AS sessions,
    COUNT(DISTINCT pk) AS persons,
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
  COUNT(DISTINCT pk) AS persons
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
  COUNT(DISTINCT pk)
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
  rank <= 20
UNION ALL
SELECT
  'mixed',
  CAST(NULL AS INT),
  CAST(NULL AS STRING),
  CAST(NULL AS STRING),
  CAST(NULL AS STRING),
  CAST(NULL AS INT),
  COUNT(*),
  COUNT(*)
FROM pos
WHERE
  mixed
HAVING
  COUNT(*) > 0;
