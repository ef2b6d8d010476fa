import { relations, sql } from "drizzle-orm";
import { jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { id, timestamps } from "./columns.js";
import { complexityLevel, learningStyle } from "./enums.js";
import { ownerPolicies } from "./ownership.js";
import { users } from "./users.js";

/** Personalisation: one row per user (the unique `user_id` makes a second profile an error). */
export const userProfiles = pgTable(
  "user_profiles",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .unique("user_profiles_user_id_unique")
      .references(() => users.id, { onDelete: "cascade" }),
    learningStyle: learningStyle("learning_style"),
    preferredComplexity: complexityLevel("preferred_complexity").notNull().default("medium"),
    interests: text("interests")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Free-form UI and notification settings; the app owns its shape. */
    preferences: jsonb("preferences").$type<Record<string, unknown>>().notNull().default({}),
    ...timestamps,
  },
  (t) => [...ownerPolicies(t.userId)],
);

export const userProfilesRelations = relations(userProfiles, ({ one }) => ({
  user: one(users, { fields: [userProfiles.userId], references: [users.id] }),
}));

export type UserProfile = typeof userProfiles.$inferSelect;
export type NewUserProfile = typeof userProfiles.$inferInsert;
