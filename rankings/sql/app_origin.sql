-- An app's identity: the origin of its HTTP-Referer, lowercased; "" for none, for anything
-- that is not http(s), and for localhost (never public). One expression, so that Postgres
-- can inline it.
CREATE OR REPLACE FUNCTION rankings_app_origin(referer text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN substring(lower(referer) FROM '^https?://[^/?#@\s]+')
            ~ '^https?://(localhost|127\.[0-9.]*|0\.0\.0\.0|\[::1?\]|[^/]*\.localhost)(:[0-9]*)?$'
        THEN ''
        ELSE coalesce(substring(lower(referer) FROM '^https?://[^/?#@\s]+'), '')
    END
$$;
