-- rankings/rollup_sql.py puts the app-origin function and the rollup functions (inserts
-- and deletes) at the markers below.
-- __ORIGIN__

-- __FUNCTIONS__

CREATE TRIGGER rankings_generation_rollup_insert
    AFTER INSERT ON rankings_generation
    REFERENCING NEW TABLE AS inserted_generations
    FOR EACH STATEMENT EXECUTE FUNCTION rankings_rollup_insert();
CREATE TRIGGER rankings_generation_rollup_delete
    AFTER DELETE ON rankings_generation
    REFERENCING OLD TABLE AS deleted_generations
    FOR EACH STATEMENT EXECUTE FUNCTION rankings_rollup_delete();
