-- One statement per batch: __ROWS__ is the statement's transition table (inserted or deleted
-- generations), __SIGN__ is +1 for inserts and -1 for deletes. The batch is read once (`g`,
-- with each distinct referer's app computed once) and every rollup gets one grouped upsert
-- from it. Rows are upserted in key order so that concurrent statements lock rollup rows in
-- the same order and cannot deadlock each other.
CREATE OR REPLACE FUNCTION rankings_rollup___NAME__() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Rows of completed UTC days (late ones) change answers the activity API stored: drop
    -- them, holding each account's lock first (in user order), as the API does to store one.
    -- A statement of its own, so that the DELETE's snapshot is taken once the locks are held.
    PERFORM pg_advisory_xact_lock(__ACTIVITY_LOCK__, u::int) FROM (
        SELECT DISTINCT coalesce(user_id, 0) AS u FROM __ROWS__
        WHERE created_at < date_trunc('day', now(), 'UTC') ORDER BY 1) AS late;
    IF FOUND THEN
        DELETE FROM rankings_accountactivityday s USING (
            SELECT DISTINCT coalesce(user_id, 0) AS user_id,
                (created_at AT TIME ZONE 'UTC')::date AS day
            FROM __ROWS__ WHERE created_at < date_trunc('day', now(), 'UTC')) AS late
        WHERE s.user_id = late.user_id AND s.day = late.day;
    END IF;
    WITH o AS MATERIALIZED (
        SELECT http_referer, rankings_app_origin(http_referer) AS app
        FROM (SELECT DISTINCT http_referer FROM __ROWS__) AS d
    ), g AS MATERIALIZED (
        SELECT date_trunc('hour', created_at, 'UTC') AS hour, model, provider, o.app,
            coalesce(user_id, 0) AS user_id, coalesce(key_id, 0) AS key_id, status,
            finish_reason, tokens_prompt, tokens_completion, tokens_reasoning, tokens_cached,
            cost, byok_usage, latency_ms, ttft_ms, throughput, app_title, app_categories,
            created_at
        FROM __ROWS__ JOIN o USING (http_referer)
    ), hourly AS (
        INSERT INTO rankings_hourlyusage AS r (
            hour, model, provider, app, user_id, requests, errors,
            tokens_prompt, tokens_completion, tokens_reasoning, tokens_cached, cost,
            latency_ms_sum, latency_count, ttft_ms_sum, ttft_count, throughput_sum,
            throughput_count, finish_length, finish_content_filter, finish_tool_calls)
        SELECT hour, model, provider, app, user_id,
            __SIGN__ * count(*), __SIGN__ * count(*) FILTER (WHERE status >= 400),
            __SIGN__ * sum(tokens_prompt), __SIGN__ * sum(tokens_completion),
            __SIGN__ * sum(tokens_reasoning), __SIGN__ * sum(tokens_cached), __SIGN__ * sum(cost),
            __SIGN__ * coalesce(sum(latency_ms), 0), __SIGN__ * count(latency_ms),
            __SIGN__ * coalesce(sum(ttft_ms), 0), __SIGN__ * count(ttft_ms),
            __SIGN__ * coalesce(sum(throughput), 0), __SIGN__ * count(throughput),
            __SIGN__ * count(*) FILTER (WHERE finish_reason = 'length'),
            __SIGN__ * count(*) FILTER (WHERE finish_reason = 'content_filter'),
            __SIGN__ * count(*) FILTER (WHERE finish_reason = 'tool_calls')
        FROM g
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (hour, model, provider, app, user_id) DO UPDATE SET
            requests = r.requests + EXCLUDED.requests,
            errors = r.errors + EXCLUDED.errors,
            tokens_prompt = r.tokens_prompt + EXCLUDED.tokens_prompt,
            tokens_completion = r.tokens_completion + EXCLUDED.tokens_completion,
            tokens_reasoning = r.tokens_reasoning + EXCLUDED.tokens_reasoning,
            tokens_cached = r.tokens_cached + EXCLUDED.tokens_cached,
            cost = r.cost + EXCLUDED.cost,
            latency_ms_sum = r.latency_ms_sum + EXCLUDED.latency_ms_sum,
            latency_count = r.latency_count + EXCLUDED.latency_count,
            ttft_ms_sum = r.ttft_ms_sum + EXCLUDED.ttft_ms_sum,
            ttft_count = r.ttft_count + EXCLUDED.ttft_count,
            throughput_sum = r.throughput_sum + EXCLUDED.throughput_sum,
            throughput_count = r.throughput_count + EXCLUDED.throughput_count,
            finish_length = r.finish_length + EXCLUDED.finish_length,
            finish_content_filter = r.finish_content_filter + EXCLUDED.finish_content_filter,
            finish_tool_calls = r.finish_tool_calls + EXCLUDED.finish_tool_calls
    ), account_days AS (
        -- Per account, day and key: what the account's own dashboards read.
        INSERT INTO rankings_accountdailyusage AS r (
            user_id, day, key_id, model, provider, app, requests,
            tokens_prompt, tokens_completion, tokens_reasoning, tokens_cached, cost, byok_usage)
        SELECT user_id, (hour AT TIME ZONE 'UTC')::date, key_id, model, provider, app,
            __SIGN__ * count(*),
            __SIGN__ * sum(tokens_prompt), __SIGN__ * sum(tokens_completion),
            __SIGN__ * sum(tokens_reasoning), __SIGN__ * sum(tokens_cached), __SIGN__ * sum(cost),
            __SIGN__ * sum(byok_usage)
        FROM g
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (user_id, day, key_id, model, provider, app) DO UPDATE SET
            requests = r.requests + EXCLUDED.requests,
            tokens_prompt = r.tokens_prompt + EXCLUDED.tokens_prompt,
            tokens_completion = r.tokens_completion + EXCLUDED.tokens_completion,
            tokens_reasoning = r.tokens_reasoning + EXCLUDED.tokens_reasoning,
            tokens_cached = r.tokens_cached + EXCLUDED.tokens_cached,
            cost = r.cost + EXCLUDED.cost,
            byok_usage = r.byok_usage + EXCLUDED.byok_usage
    ), categories AS (
        INSERT INTO rankings_hourlycategoryusage AS r
            (hour, category, model, app, requests, tokens)
        SELECT hour, category, model, app,
            __SIGN__ * count(*), __SIGN__ * sum(tokens_prompt + tokens_completion)
        FROM g, unnest(app_categories) AS category
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (hour, category, model, app) DO UPDATE SET
            requests = r.requests + EXCLUDED.requests,
            tokens = r.tokens + EXCLUDED.tokens
    ), changed AS (
        INSERT INTO rankings_changedday (day)
        SELECT DISTINCT (hour AT TIME ZONE 'UTC')::date FROM g
    ), cats AS (
        -- Apps appear on first sight (inserts only); the latest non-empty title names them;
        -- categories merge into at most ten.
        SELECT app AS origin, array_agg(DISTINCT category) AS categories
        FROM g, unnest(app_categories) AS category
        WHERE __SIGN__ > 0 AND app <> '' GROUP BY app
    ), a AS (
        SELECT app AS origin,
            (array_agg(app_title ORDER BY created_at DESC)
                FILTER (WHERE app_title <> ''))[1] AS title,
            min(created_at) AS first_seen, max(created_at) AS last_seen
        FROM g WHERE __SIGN__ > 0 AND app <> '' GROUP BY app
    )
    INSERT INTO rankings_app AS r
        (origin, title, description, hidden, categories, first_seen, last_seen)
    SELECT a.origin, coalesce(a.title, ''), '', false,
        coalesce(cats.categories, '{}'), a.first_seen, a.last_seen
    FROM a LEFT JOIN cats USING (origin)
    -- An app seen again within the hour with nothing new is left alone: rewriting its row
    -- on every batch would cost more than the whole rollup (last_seen is to the hour).
    WHERE NOT EXISTS (
        SELECT 1 FROM rankings_app x
        WHERE x.origin = a.origin AND coalesce(a.title, x.title) = x.title
            AND x.categories @> coalesce(cats.categories, '{}')
            AND x.first_seen <= a.first_seen AND x.last_seen >= a.last_seen - interval '1 hour'
        -- OFFSET 0 keeps this a lookup by origin per app of the batch: as a join, the planner
        -- (blind to a transition table's size) hashes the whole app table on every batch.
        OFFSET 0)
    ORDER BY a.origin
    ON CONFLICT (origin) DO UPDATE SET
        title = CASE WHEN EXCLUDED.title <> ''
            AND (r.title = '' OR EXCLUDED.last_seen >= r.last_seen)
            THEN EXCLUDED.title ELSE r.title END,
        categories = ARRAY(
            SELECT DISTINCT c FROM unnest(r.categories || EXCLUDED.categories) AS c
            ORDER BY c LIMIT 10),
        first_seen = least(r.first_seen, EXCLUDED.first_seen),
        last_seen = greatest(r.last_seen, EXCLUDED.last_seen);

    IF __SIGN__ < 0 THEN
        -- A group whose generations are all gone is gone too.
        DELETE FROM rankings_hourlyusage WHERE requests = 0 AND (hour, model) IN (
            SELECT DISTINCT date_trunc('hour', created_at, 'UTC'), model FROM __ROWS__);
        DELETE FROM rankings_hourlycategoryusage WHERE requests = 0 AND (hour, model) IN (
            SELECT DISTINCT date_trunc('hour', created_at, 'UTC'), model FROM __ROWS__);
        DELETE FROM rankings_accountdailyusage WHERE requests = 0 AND (user_id, day) IN (
            SELECT DISTINCT coalesce(user_id, 0), (created_at AT TIME ZONE 'UTC')::date
            FROM __ROWS__);
    END IF;
    RETURN NULL;
END $$;
