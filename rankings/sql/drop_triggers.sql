DROP TRIGGER IF EXISTS rankings_generation_rollup_insert ON rankings_generation;
DROP TRIGGER IF EXISTS rankings_generation_rollup_delete ON rankings_generation;
DROP FUNCTION IF EXISTS rankings_rollup_insert();
DROP FUNCTION IF EXISTS rankings_rollup_delete();
