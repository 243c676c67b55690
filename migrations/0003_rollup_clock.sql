CREATE TABLE "hub"."rollup_clock" (
	"id" integer PRIMARY KEY NOT NULL,
	"checked_until" timestamp with time zone NOT NULL
);
