ALTER TABLE "cookie_secrets" ADD COLUMN "activates_at" timestamp with time zone;--> statement-breakpoint
-- Every secret stored so far has been in service since it was made.
UPDATE "cookie_secrets" SET "activates_at" = "created_at";--> statement-breakpoint
ALTER TABLE "cookie_secrets" ALTER COLUMN "activates_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "cookie_secrets" ADD COLUMN "retired_at" timestamp with time zone;
