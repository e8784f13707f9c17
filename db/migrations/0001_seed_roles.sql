-- Custom SQL migration file, put your code below! --
-- The built-in roles: admin holds every permission, user none.
INSERT INTO "roles" ("name", "description", "permissions", "built_in") VALUES
  ('admin', 'Full administrative access', '["users:read","users:write","users:delete","roles:manage","audit:read","clients:manage"]'::jsonb, true),
  ('user', 'Every registered user', '[]'::jsonb, true)
ON CONFLICT ("name") DO NOTHING;
