-- The lookup behind auth.verify (server/services/signed-in.ts): whether the user is active, whether
-- the token's session (its Grant) still lives, and the user's roles with their permissions. The
-- same as gatehouse_signed_in without the user row, which auth.verify does not answer with.
CREATE FUNCTION gatehouse_signed_in_access(p_user_id uuid, p_grant_key text, p_now timestamptz)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN (
    SELECT json_build_object(
      'isActive', u.is_active,
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
