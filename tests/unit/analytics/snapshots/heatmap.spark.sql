SELECT
  COALESCE(element_id, '(unknown)') AS element_id,
  MAX(element_type) AS element_type,
  MAX(element_text) AS element_text,
  COUNT(*) AS clicks,
  COUNT(DISTINCT person) AS persons,
  AVG(x_ratio) AS avg_x_ratio,
  AVG(y_ratio) AS avg_y_ratio
FROM (
  SELECT
    COALESCE(
      CAST(COALESCE(ku.profile_key, ka.profile_key) AS STRING),
      COALESCE('user:' || e.user_id, 'anon:' || e.anonymous_id)
    ) AS person,
    e.`timestamp` AS ts,
    e.message_id,
    COALESCE(e.event, e.name) AS label,
    GET_JSON_OBJECT(e.properties, '$.element_id') AS element_id,
    GET_JSON_OBJECT(e.properties, '$.element_type') AS element_type,
    GET_JSON_OBJECT(e.properties, '$.text') AS element_text,
    TRY_CAST(GET_JSON_OBJECT(e.properties, '$.x') AS DOUBLE) / NULLIF(TRY_CAST(GET_JSON_OBJECT(e.properties, '$.viewport_width') AS DOUBLE), 0) AS x_ratio,
    TRY_CAST(GET_JSON_OBJECT(e.properties, '$.y') AS DOUBLE) / NULLIF(TRY_CAST(GET_JSON_OBJECT(e.properties, '$.viewport_height') AS DOUBLE), 0) AS y_ratio
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
      COALESCE(e.event, e.name) = 'Element Clicked'
    )
    AND (
      GET_JSON_OBJECT(e.properties, '$.page_path') LIKE '/p/%' ESCAPE '\\'
    )
)
GROUP BY
  COALESCE(element_id, '(unknown)');
SELECT
  DATE_TRUNC('HOUR', ts) AS hour_utc,
  COUNT(CASE WHEN is_view THEN 1 END) AS views,
  COUNT(CASE WHEN is_click THEN 1 END) AS clicks
FROM (
  SELECT
    COALESCE(
      CAST(COALESCE(ku.profile_key, ka.profile_key) AS STRING),
      COALESCE('user:' || e.user_id, 'anon:' || e.anonymous_id)
    ) AS person,
    e.`timestamp` AS ts,
    e.message_id,
    COALESCE(e.event, e.name) AS label,
    (
      e.type IN ('page', 'screen')
      AND COALESCE(GET_JSON_OBJECT(e.properties, '$.path'), GET_JSON_OBJECT(e.context, '$.page.path')) LIKE '/p/%' ESCAPE '\\'
    ) AS is_view,
    (
      COALESCE(e.event, e.name) = 'Element Clicked'
      AND GET_JSON_OBJECT(e.properties, '$.page_path') LIKE '/p/%' ESCAPE '\\'
    ) AS is_click
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
      (
        e.type IN ('page', 'screen')
        AND COALESCE(GET_JSON_OBJECT(e.properties, '$.path'), GET_JSON_OBJECT(e.context, '$.page.path')) LIKE '/p/%' ESCAPE '\\'
      )
      OR (
        COALESCE(e.event, e.name) = 'Element Clicked'
        AND GET_JSON_OBJECT(e.properties, '$.page_path') LIKE '/p/%' ESCAPE '\\'
      )
    )
)
GROUP BY
  DATE_TRUNC('HOUR', ts);
