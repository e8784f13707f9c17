CREATE TABLE "api_permissions" (
	"name" text PRIMARY KEY NOT NULL,
	"resource" text NOT NULL,
	"description" text
);
--> statement-breakpoint
CREATE TABLE "api_resources" (
	"identifier" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"access_token_ttl" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth_client_roles" (
	"client_id" text NOT NULL,
	"role_id" uuid NOT NULL,
	CONSTRAINT "oauth_client_roles_client_id_role_id_pk" PRIMARY KEY("client_id","role_id")
);
--> statement-breakpoint
ALTER TABLE "api_permissions" ADD CONSTRAINT "api_permissions_resource_api_resources_identifier_fk" FOREIGN KEY ("resource") REFERENCES "public"."api_resources"("identifier") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "oauth_client_roles" ADD CONSTRAINT "oauth_client_roles_client_id_oauth_clients_client_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."oauth_clients"("client_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth_client_roles" ADD CONSTRAINT "oauth_client_roles_role_id_roles_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."roles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_permissions_resource_idx" ON "api_permissions" USING btree ("resource");--> statement-breakpoint
CREATE INDEX "oauth_client_roles_role_id_idx" ON "oauth_client_roles" USING btree ("role_id");--> statement-breakpoint
-- resources:manage joins the built-in API's permissions, and admin holds every one of them.
UPDATE "roles" SET "permissions" = "permissions" || '["resources:manage"]'::jsonb, "updated_at" = now()
WHERE "name" = 'admin' AND NOT "permissions" ? 'resources:manage';
