import { relations } from "drizzle-orm";
import { index, pgTable, text } from "drizzle-orm/pg-core";
import { id, timestamps } from "./columns.js";
import { userRole } from "./enums.js";
import { ownerPolicies } from "./ownership.js";
import { courses } from "./courses.js";
import { userProfiles } from "./user-profiles.js";
import { userProgress } from "./user-progress.js";
import { userAnnotations } from "./user-annotations.js";

export const users = pgTable(
  "users",
  {
    id: id(),
    /** The Cognito user pool's `sub` claim: how the API maps a signed-in user to this row. */
    cognitoSub: text("cognito_sub").notNull().unique("users_cognito_sub_unique"),
    email: text("email").notNull().unique("users_email_unique"),
    displayName: text("display_name"),
    role: userRole("role").notNull().default("user"),
    ...timestamps,
  },
  // The row *is* the owner, so its id is the owner column.
  (t) => [index("users_role_idx").on(t.role), ...ownerPolicies(t.id)],
);

export const usersRelations = relations(users, ({ one, many }) => ({
  profile: one(userProfiles),
  courses: many(courses),
  progress: many(userProgress),
  annotations: many(userAnnotations),
}));

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
