-- The rollup functions (rollup_function.sql, once for inserts and once for deletes) go
-- where the __FUNCTIONS__ marker is, see migration 0004.
-- An app's identity: the origin of its HTTP-Referer, lowercased; "" for none, for anything
-- that is not http(s), and for localhost (never public).
CREATE OR REPLACE FUNCTION rankings_app_origin(referer text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN origin IS NULL THEN ''
        WHEN host ~ '^(localhost|127\.|0\.0\.0\.0$|\[::1?\]$)' OR host ~ '\.localhost$' THEN ''
        ELSE origin
    END
    FROM (SELECT lower(substring(referer FROM '^[hH][tT][tT][pP][sS]?://[^/?#@\s]+')) AS origin) AS o,
    LATERAL (SELECT regexp_replace(substring(origin FROM '://(.*)$'), ':[0-9]*$', '') AS host) AS h
$$;

-- __FUNCTIONS__

CREATE TRIGGER rankings_generation_rollup_insert
    AFTER INSERT ON rankings_generation
    REFERENCING NEW TABLE AS inserted_generations
    FOR EACH STATEMENT EXECUTE FUNCTION rankings_rollup_insert();
CREATE TRIGGER rankings_generation_rollup_delete
    AFTER DELETE ON rankings_generation
    REFERENCING OLD TABLE AS deleted_generations
    FOR EACH STATEMENT EXECUTE FUNCTION rankings_rollup_delete();
