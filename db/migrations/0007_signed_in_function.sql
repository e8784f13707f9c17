-- Custom SQL migration file, put your code below! --
-- The lookup behind every bearer request (server/services/signed-in.ts): the user, whether the
-- token's session (its Grant) still lives, and the user's roles with their permissions, in one
-- call, as one JSON value (null when no such user).
--
-- A PL/pgSQL function because its statement's plan is kept for the connection's life, where a
-- statement sent from the client is planned on every call by PGlite (which has no named
-- statements): planning was half of the lookup's time there. One JSON value because PGlite then
-- decodes one column instead of seventeen. On PostgreSQL the plan was already reused, through
-- postgres-js's prepared statements, and it still is.
--
-- `user` is the whole users row (row_to_json), so a column added to users comes back without a
-- change here.
CREATE FUNCTION gatehouse_signed_in(p_user_id uuid, p_grant_key text, p_now timestamptz)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN (
    SELECT json_build_object(
      'user', row_to_json(u),
      'sessionAlive', EXISTS (
        SELECT 1 FROM oidc_payloads g
        WHERE g.model = 'Grant' AND g.id = p_grant_key AND (g.expires_at IS NULL OR g.expires_at > p_now)),
      'roles', COALESCE((
        SELECT json_agg(json_build_object('name', r.name, 'permissions', r.permissions))
        FROM user_roles ur JOIN roles r ON r.id = ur.role_id
        WHERE ur.user_id = u.id), '[]'::json))
    FROM users u
    WHERE u.id = p_user_id);
END
$$;
