SELECT * FROM (SELECT
  TRY_CAST(custodia_key(id || '#' || line_no) AS VARCHAR) AS "line_id",
  TRY_CAST(custodia_key(id) AS VARCHAR) AS "order_id",
  TRY_CAST(line_no AS INTEGER) AS "line_number",
  TRY_CAST(item.sku AS VARCHAR) AS "sku",
  TRY_CAST(item.name AS VARCHAR) AS "product_name",
  TRY_CAST(NULL AS VARCHAR) AS "category",
  TRY_CAST(item.qty AS INTEGER) AS "quantity",
  TRY_CAST(TRY_CAST(regexp_replace(translate(trim(CAST((item.price) AS VARCHAR)), '０１２３４５６７８９／－：．，　', '0123456789/-:., '), '[,¥￥$\s]', '', 'g') AS DECIMAL(14, 2)) AS DECIMAL(14, 2)) AS "unit_price",
  TRY_CAST(item.qty * TRY_CAST(replace(item.price, ',', '') AS DECIMAL(14, 2)) AS DECIMAL(14, 2)) AS "line_amount",
  TRY_CAST('web_orders' AS VARCHAR) AS "source",
  TRY_CAST('run_snapshot' AS VARCHAR) AS "run_id",
  TRY_CAST(TIMESTAMPTZ '2026-03-05T06:00:00+00:00' AS TIMESTAMPTZ) AS "loaded_at"
FROM (SELECT id, unnest(items) AS item, generate_subscripts(items, 1) AS line_no
 FROM records) AS lines) AS mapped
QUALIFY ("line_id" IS NULL OR "order_id" IS NULL) OR row_number() OVER (PARTITION BY "line_id", ("line_id" IS NULL OR "order_id" IS NULL)) = 1
