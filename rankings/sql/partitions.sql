-- The generation table, range-partitioned by month on created_at.
-- A DEFAULT partition catches rows of months nobody created yet (a clock far off, a replay of
-- old events), so an insert never fails for want of a partition; creating the month later
-- moves those rows into it.

CREATE TABLE rankings_generation_partitioned (
    LIKE rankings_generation INCLUDING DEFAULTS INCLUDING CONSTRAINTS
) PARTITION BY RANGE (created_at);
ALTER TABLE rankings_generation_partitioned ADD PRIMARY KEY (id, created_at);
CREATE TABLE rankings_generation_default PARTITION OF rankings_generation_partitioned DEFAULT;
INSERT INTO rankings_generation_partitioned SELECT * FROM rankings_generation;
DROP TABLE rankings_generation;
ALTER TABLE rankings_generation_partitioned RENAME TO rankings_generation;
ALTER TABLE rankings_generation RENAME CONSTRAINT rankings_generation_partitioned_pkey
    TO rankings_generation_pkey;
ALTER TABLE rankings_generation ADD CONSTRAINT rankings_generation_user_id_fk
    FOREIGN KEY (user_id) REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED;

-- The indexes Django's model declares, on the parent so every partition gets them.
CREATE INDEX generation_user_created ON rankings_generation (user_id, created_at DESC);
CREATE INDEX generation_key_created ON rankings_generation (key_id, created_at DESC);
CREATE INDEX generation_model_created ON rankings_generation (model, created_at);
CREATE INDEX generation_created ON rankings_generation (created_at);
CREATE INDEX rankings_generation_user_id ON rankings_generation (user_id);

-- Creates the partition of the month holding `day` (UTC) unless it exists; returns whether
-- it did. Rows of that month already in the default partition are moved into it first.
CREATE OR REPLACE FUNCTION rankings_generation_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    month timestamp := date_trunc('month', day::timestamp);
    start_at timestamptz := month AT TIME ZONE 'UTC';
    end_at timestamptz := (month + interval '1 month') AT TIME ZONE 'UTC';
    name text := 'rankings_generation_' || to_char(month, 'YYYY_MM');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE rankings_generation INCLUDING DEFAULTS)', name);
    -- Directly on the partitions: the parent's triggers do not fire, the rollups already
    -- count these rows.
    EXECUTE format(
        'WITH moved AS (DELETE FROM rankings_generation_default'
        ' WHERE created_at >= %L AND created_at < %L RETURNING *)'
        ' INSERT INTO %I SELECT * FROM moved', start_at, end_at, name);
    EXECUTE format(
        'ALTER TABLE rankings_generation ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        name, start_at, end_at);
    RETURN true;
END $$;

-- This month, the ones before with data, and three ahead.
SELECT rankings_generation_partition(m::date)
FROM generate_series(
    date_trunc('month', coalesce(
        (SELECT min(created_at) FROM rankings_generation), now()) AT TIME ZONE 'UTC'),
    date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months',
    interval '1 month') AS m;
