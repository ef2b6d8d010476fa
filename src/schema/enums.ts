import { pgEnum } from "drizzle-orm/pg-core";

// Values exactly as the platform spec lists them ("Custom Types"); their order is the enum's sort order.
export const userRole = pgEnum("user_role", ["user", "admin", "moderator"]);
export const processingStatus = pgEnum("processing_status_enum", ["pending", "processing", "completed", "failed"]);
export const feedbackType = pgEnum("feedback_type_enum", ["concept_map", "processing", "general", "analogy"]);
export const learningStyle = pgEnum("learning_style_enum", ["visual", "auditory", "kinesthetic", "reading"]);
export const complexityLevel = pgEnum("complexity_level_enum", ["high", "medium", "low"]);

export type UserRole = (typeof userRole.enumValues)[number];
export type ProcessingStatus = (typeof processingStatus.enumValues)[number];
export type FeedbackType = (typeof feedbackType.enumValues)[number];
export type LearningStyle = (typeof learningStyle.enumValues)[number];
export type ComplexityLevel = (typeof complexityLevel.enumValues)[number];
