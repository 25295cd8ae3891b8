-- pos_receipt_rekeyed
SELECT
  t."order_id" AS row_key,
  COUNT(*) OVER (
    PARTITION BY t."store_id", t."ordered_at", t."total_amount", t."item_count", t."customer_ref"
  ) AS _size,
  ROW_NUMBER() OVER (
    PARTITION BY t."store_id", t."ordered_at", t."total_amount", t."item_count", t."customer_ref"
    ORDER BY t."loaded_at" ASC, t."source_key" ASC, t."order_id"
  ) AS _n
FROM (
  SELECT
    *
  FROM "orders"
  WHERE
    channel = 'pos'
) AS t
WHERE
  NOT t."store_id" IS NULL
  AND NOT t."ordered_at" IS NULL
  AND NOT t."total_amount" IS NULL
  AND NOT t."item_count" IS NULL
  AND NOT t."customer_ref" IS NULL;

-- interaction_repeated
SELECT
  t."interaction_id" AS row_key,
  COUNT(*) OVER (PARTITION BY t."kind", t."customer_ref", t."created_at", t."text") AS _size,
  ROW_NUMBER() OVER (
    PARTITION BY t."kind", t."customer_ref", t."created_at", t."text"
    ORDER BY t."loaded_at" ASC, t."source_key" ASC, t."interaction_id"
  ) AS _n
FROM (
  SELECT
    *
  FROM "interactions"
  WHERE
    TRUE
) AS t
WHERE
  NOT t."kind" IS NULL
  AND NOT t."customer_ref" IS NULL
  AND NOT t."created_at" IS NULL
  AND NOT t."text" IS NULL;

-- crm_second_signups
SELECT
  t."record_id" AS row_key,
  COUNT(*) OVER (PARTITION BY p."profile_id") AS _size,
  ROW_NUMBER() OVER (
    PARTITION BY p."profile_id"
    ORDER BY t."registered_at" ASC, t."member_id" ASC, t."record_id"
  ) AS _n
FROM (
  SELECT
    *
  FROM "customer_records"
  WHERE
    source = 'crm_members'
) AS t
LEFT JOIN (
  SELECT
    record_id,
    MIN(profile_id) AS profile_id
  FROM "profile_identifiers"
  GROUP BY
    record_id
) AS p
  ON p.record_id = t.record_id
WHERE
  NOT p."profile_id" IS NULL;

-- fill
SELECT
  f.*,
  NULLIF(
    '{' || CONCAT_WS(
      ', ',
      CASE WHEN f."_filled_birthday" THEN '"birthday": "profiles"' END,
      CASE WHEN f."_filled_city" THEN '"city": "profiles"' END,
      CASE WHEN f."_filled_email" THEN '"email": "profiles"' END,
      CASE WHEN f."_filled_gender" THEN '"gender": "profiles"' END,
      CASE WHEN f."_filled_name" THEN '"name": "profiles"' END,
      CASE WHEN f."_filled_occupation" THEN '"occupation": "profiles"' END,
      CASE WHEN f."_filled_phone" THEN '"phone": "profiles"' END,
      CASE WHEN f."_filled_province" THEN '"province": "profiles"' END
    ) || '}',
    '{}'
  ) AS filled_columns
FROM (
  SELECT
    t."record_id",
    t."source_key",
    t."member_id",
    t."user_id",
    CASE
      WHEN t."name" IS NULL AND t._in_scope AND NOT g."name" IS NULL
      THEN g."name"
      ELSE t."name"
    END AS "name",
    COALESCE(t."name" IS NULL AND t._in_scope AND NOT g."name" IS NULL, FALSE) AS "_filled_name",
    CASE
      WHEN t."gender" IS NULL AND t._in_scope AND NOT g."gender" IS NULL
      THEN g."gender"
      ELSE t."gender"
    END AS "gender",
    COALESCE(t."gender" IS NULL AND t._in_scope AND NOT g."gender" IS NULL, FALSE) AS "_filled_gender",
    CASE
      WHEN t."birthday" IS NULL AND t._in_scope AND NOT g."birthday" IS NULL
      THEN g."birthday"
      ELSE t."birthday"
    END AS "birthday",
    COALESCE(t."birthday" IS NULL AND t._in_scope AND NOT g."birthday" IS NULL, FALSE) AS "_filled_birthday",
    t."resident_id",
    CASE
      WHEN t."phone" IS NULL AND t._in_scope AND NOT g."phone" IS NULL
      THEN g."phone"
      ELSE t."phone"
    END AS "phone",
    COALESCE(t."phone" IS NULL AND t._in_scope AND NOT g."phone" IS NULL, FALSE) AS "_filled_phone",
    CASE
      WHEN t."email" IS NULL AND t._in_scope AND NOT g."email" IS NULL
      THEN g."email"
      ELSE t."email"
    END AS "email",
    COALESCE(t."email" IS NULL AND t._in_scope AND NOT g."email" IS NULL, FALSE) AS "_filled_email",
    t."member_level",
    CASE
      WHEN t."province" IS NULL AND t._in_scope AND NOT g."province" IS NULL
      THEN g."province"
      ELSE t."province"
    END AS "province",
    COALESCE(t."province" IS NULL AND t._in_scope AND NOT g."province" IS NULL, FALSE) AS "_filled_province",
    CASE
      WHEN t."city" IS NULL AND t._in_scope AND NOT g."city" IS NULL
      THEN g."city"
      ELSE t."city"
    END AS "city",
    COALESCE(t."city" IS NULL AND t._in_scope AND NOT g."city" IS NULL, FALSE) AS "_filled_city",
    t."address",
    CASE
      WHEN t."occupation" IS NULL AND t._in_scope AND NOT g."occupation" IS NULL
      THEN g."occupation"
      ELSE t."occupation"
    END AS "occupation",
    COALESCE(t."occupation" IS NULL AND t._in_scope AND NOT g."occupation" IS NULL, FALSE) AS "_filled_occupation",
    t."industry",
    t."income_band",
    t."credit_band",
    t."registered_at",
    t."updated_at",
    t."source",
    t."run_id",
    t."loaded_at",
    m.profile_id AS profile_id
  FROM (
    SELECT
      *,
      COALESCE(TRUE, FALSE) AS _in_scope
    FROM "customer_records"
  ) AS t
  LEFT JOIN (
    SELECT
      record_id,
      MIN(profile_id) AS profile_id
    FROM "profile_identifiers"
    GROUP BY
      record_id
  ) AS m
    ON m.record_id = t.record_id
  LEFT JOIN "profiles" AS g
    ON g.profile_id = m.profile_id
) AS f;
