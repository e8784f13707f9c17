CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "auth_events_user_id_created_at_idx";--> statement-breakpoint
DROP INDEX "auth_events_type_created_at_idx";--> statement-breakpoint
DROP INDEX "auth_events_ip_created_at_idx";--> statement-breakpoint
CREATE INDEX "rate_limits_expire_idx" ON "rate_limits" USING btree ("expire");--> statement-breakpoint
CREATE INDEX "auth_events_user_id_created_at_id_idx" ON "auth_events" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "auth_events_type_created_at_id_idx" ON "auth_events" USING btree ("type","created_at","id");--> statement-breakpoint
CREATE INDEX "auth_events_ip_created_at_id_idx" ON "auth_events" USING btree ("ip","created_at","id");