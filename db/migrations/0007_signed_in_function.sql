-- Custom SQL migration file, put your code below! --
-- The lookup behind every bearer request (server/services/signed-in.ts): the user, whether the
-- token's session (its Grant) still lives, and the user's roles with their permissions, in one
-- call. A PL/pgSQL function because its statement's plan is kept for the connection's life, where
-- a statement sent from the client is planned on every call by PGlite (which has no named
-- statements): planning was half of the lookup's time there. On PostgreSQL the plan was already
-- reused, through postgres-js's prepared statements, and it still is.
--
-- The result's first columns are the users table's, in its order, under its names: the caller
-- selects the table's columns from this function's result, so a column added to users and not
-- here fails every call (and the suite) rather than going unread.
CREATE FUNCTION gatehouse_signed_in(p_user_id uuid, p_grant_key text, p_now timestamptz)
RETURNS TABLE (
  id uuid,
  email text,
  password_hash text,
  name text,
  given_name text,
  family_name text,
  picture text,
  locale text,
  zoneinfo text,
  email_verified boolean,
  is_active boolean,
  created_at timestamptz,
  updated_at timestamptz,
  last_login_at timestamptz,
  password_changed_at timestamptz,
  session_alive boolean,
  roles json
)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT u.id, u.email, u.password_hash, u.name, u.given_name, u.family_name, u.picture, u.locale,
    u.zoneinfo, u.email_verified, u.is_active, u.created_at, u.updated_at, u.last_login_at,
    u.password_changed_at,
    EXISTS (
      SELECT 1 FROM oidc_payloads g
      WHERE g.model = 'Grant' AND g.id = p_grant_key AND (g.expires_at IS NULL OR g.expires_at > p_now)),
    COALESCE((
      SELECT json_agg(json_build_object('name', r.name, 'permissions', r.permissions))
      FROM user_roles ur JOIN roles r ON r.id = ur.role_id
      WHERE ur.user_id = u.id), '[]'::json)
  FROM users u
  WHERE u.id = p_user_id;
END
$$;
