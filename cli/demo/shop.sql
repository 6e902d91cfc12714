-- pg-migrate demo: a small shop (schemas, enum and domain types, identity and serial keys, foreign keys, partial
-- and composite indexes, jsonb and arrays, a view, a materialized view, a PL/pgSQL trigger, comments, grants,
-- a table without a primary key). Loaded into the demo's source server; about 130,000 rows.
CREATE SCHEMA sales;
COMMENT ON SCHEMA sales IS 'Orders and the catalogue';

CREATE TYPE sales.order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
CREATE DOMAIN sales.email AS text CHECK (VALUE ~ '^[^@\s]+@[^@\s]+$');

CREATE TABLE sales.customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email sales.email NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  profile jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE sales.products (
  id serial PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  title text NOT NULL,
  price numeric(10, 2) NOT NULL CHECK (price >= 0),
  tags text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE sales.orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES sales.customers (id),
  status sales.order_status NOT NULL DEFAULT 'new',
  ordered_at timestamptz NOT NULL,
  total numeric(12, 2) NOT NULL DEFAULT 0
);
COMMENT ON TABLE sales.orders IS 'One row per order; total is kept by a trigger on order_items';
CREATE INDEX orders_customer_recent ON sales.orders (customer_id, ordered_at DESC);
CREATE INDEX orders_open ON sales.orders (ordered_at) WHERE status IN ('new', 'paid');

CREATE TABLE sales.order_items (
  order_id bigint NOT NULL REFERENCES sales.orders (id) ON DELETE CASCADE,
  line int NOT NULL,
  product_id int NOT NULL REFERENCES sales.products (id),
  quantity int NOT NULL CHECK (quantity > 0),
  price numeric(10, 2) NOT NULL,
  PRIMARY KEY (order_id, line)
);

-- No primary key: fine for dump/restore, needs REPLICA IDENTITY FULL (with consent) for replication.
CREATE TABLE public.audit_log (
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  payload jsonb
);

INSERT INTO sales.customers (email, name, created_at, profile)
SELECT format('customer%s@example.com', g), format('Customer %s', g), now() - g * interval '1 hour',
       jsonb_build_object('tier', (ARRAY['free', 'plus', 'pro'])[1 + g % 3], 'newsletter', g % 2 = 0)
FROM generate_series(1, 3000) AS g;

INSERT INTO sales.products (sku, title, price, tags)
SELECT format('SKU-%s', lpad(g::text, 5, '0')), format('Product %s', g), round((g % 97 + 1) * 1.25, 2),
       ARRAY[(ARRAY['red', 'green', 'blue'])[1 + g % 3], (ARRAY['s', 'm', 'l'])[1 + g % 3]]
FROM generate_series(1, 400) AS g;

INSERT INTO sales.orders (customer_id, status, ordered_at)
SELECT 1 + g % 3000, (ARRAY['new', 'paid', 'shipped', 'cancelled']::sales.order_status[])[1 + g % 4],
       now() - g * interval '7 minutes'
FROM generate_series(1, 30000) AS g;

INSERT INTO sales.order_items (order_id, line, product_id, quantity, price)
SELECT o, l, 1 + (o * 7 + l) % 400, 1 + (o + l) % 5, round(((o * 7 + l) % 97 + 1) * 1.25, 2)
FROM generate_series(1, 30000) AS o, generate_series(1, 3) AS l;

UPDATE sales.orders o SET total = s.total
FROM (SELECT order_id, sum(quantity * price) AS total FROM sales.order_items GROUP BY order_id) s
WHERE s.order_id = o.id;

INSERT INTO public.audit_log (at, actor, action, payload)
SELECT now() - g * interval '1 minute', 'app_rw', (ARRAY['login', 'order', 'refund'])[1 + g % 3],
       jsonb_build_object('n', g)
FROM generate_series(1, 5000) AS g;

CREATE FUNCTION sales.add_to_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE sales.orders SET total = total + NEW.quantity * NEW.price WHERE id = NEW.order_id;
  RETURN NEW;
END
$$;
CREATE TRIGGER order_items_total AFTER INSERT ON sales.order_items
  FOR EACH ROW EXECUTE FUNCTION sales.add_to_total();

CREATE VIEW sales.customer_totals AS
  SELECT c.id, c.email, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent
  FROM sales.customers c LEFT JOIN sales.orders o ON o.customer_id = c.id
  GROUP BY c.id, c.email;

CREATE MATERIALIZED VIEW sales.daily_revenue AS
  SELECT date_trunc('day', ordered_at) AS day, sum(total) AS revenue, count(*) AS orders
  FROM sales.orders WHERE status <> 'cancelled' GROUP BY 1;
CREATE UNIQUE INDEX daily_revenue_day ON sales.daily_revenue (day);

GRANT USAGE ON SCHEMA sales TO app_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA sales TO app_ro;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA sales TO app_rw;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA sales TO app_rw;
ALTER TABLE sales.orders OWNER TO app_rw;
ANALYZE;
