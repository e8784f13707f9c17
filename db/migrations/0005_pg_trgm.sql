-- Custom SQL migration file, put your code below! --
-- Trigram indexes serve admin.users.list's substring search and its total (0006). pg_trgm is a
-- trusted extension: a database owner may create it without superuser rights. PGlite loads it in
-- db/client.ts.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
