-- Custom SQL migration file, put your code below! --
-- The audit trail is append-only for the service: whatever SQL reaches the database through the
-- service's connection, rows of auth_events are written and never changed or removed. A retention
-- purge, should one come, goes through a function of its own that says so.
CREATE FUNCTION gatehouse_audit_append_only()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  RAISE EXCEPTION 'auth_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER auth_events_append_only
BEFORE UPDATE OR DELETE ON auth_events
FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER auth_events_no_truncate
BEFORE TRUNCATE ON auth_events
FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_audit_append_only();
