import { COURSE_TITLES, DOCUMENT_KINDS, RELATIONSHIP_TYPES, SUBJECTS } from "./vocabulary.js";
import { Random } from "./random.js";
import type { SeedPlan } from "./plan.js";
import type {
  NewChapter,
  NewCourse,
  NewCourseDocument,
  NewKeyword,
  NewProcessedDocument,
  NewRelationship,
  NewUser,
  NewUserAnnotation,
  NewUserProfile,
  NewUserProgress,
} from "../schema/index.js";

/** Everything one user owns: generated together, inserted together. */
export interface UserBatch {
  users: NewUser[];
  user_profiles: NewUserProfile[];
  courses: NewCourse[];
  course_documents: NewCourseDocument[];
  processed_documents: NewProcessedDocument[];
  chapters: NewChapter[];
  keywords: NewKeyword[];
  relationships: NewRelationship[];
  user_annotations: NewUserAnnotation[];
  user_progress: NewUserProgress[];
}

// Noise per dimension around a centre. Each course has its own centre (~0.9 cosine to its
// subject's), its documents ~0.95 to the course's, chapters ~0.95 to their document, keywords
// ~0.9 to the subject. So a document's true neighbours are its course's documents, then its
// subject's: structure as in real material, without which every document of a subject would
// be nearly equidistant and nearest-neighbour recall would measure noise.
const COURSE_SIGMA = 0.018;
const DOCUMENT_SIGMA = 0.012;
const CHAPTER_SIGMA = 0.012;
const KEYWORD_SIGMA = 0.018;
// `|| 0`: a tiny negative rounds to -0, which binary COPY would store as -0 while text (the
// INSERT path, and every seed before COPY) stored 0; this way both paths store the same rows.
const round = (v: number[]) => {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i]! * 1e5) / 1e5 || 0;
  return out;
};
/** round, over a vector nothing else holds: one 768-element array less per row for the garbage collector. */
const roundInPlace = (v: number[]) => {
  for (let i = 0; i < v.length; i++) v[i] = Math.round(v[i]! * 1e5) / 1e5 || 0;
  return v;
};

/**
 * Generates the data set user by user, deterministically from the plan's seed. Embeddings are
 * drawn around one centre per subject (the same centres for every user), so similar documents
 * exist across users and within each user's courses.
 */
export function* generateUsers(plan: SeedPlan): Generator<UserBatch> {
  for (const item of generateUsersPausing(plan)) if (item !== PAUSE) yield item;
}

/** Yielded by generateUsersPausing between two courses: a point where the caller may let I/O through. */
export const PAUSE: unique symbol = Symbol("pause");

/**
 * generateUsers, also yielding PAUSE after each course. A user of the bench's plan takes ~10 ms
 * to generate; a seed that lets its COPY's socket writes through only between users starves the
 * server for that long each time its socket buffer runs dry. The draws, and so the data, are
 * the same.
 */
export function* generateUsersPausing(plan: SeedPlan): Generator<UserBatch | typeof PAUSE> {
  const random = new Random(plan.seed);
  const centres = subjectCentres(random);
  for (let u = 0; u < plan.users; u++) {
    const batch: UserBatch = {
      users: [],
      user_profiles: [],
      courses: [],
      course_documents: [],
      processed_documents: [],
      chapters: [],
      keywords: [],
      relationships: [],
      user_annotations: [],
      user_progress: [],
    };
    const userId = random.uuid();
    batch.users.push({
      id: userId,
      cognitoSub: `seed-${plan.seed}-${u}`,
      email: `learner${u}.seed${plan.seed}@example.com`,
      displayName: `Learner ${u + 1}`,
      role: u % 50 === 49 ? "moderator" : "user",
    });
    batch.user_profiles.push({
      userId,
      learningStyle: random.pick(["visual", "auditory", "kinesthetic", "reading"] as const),
      preferredComplexity: random.pick(["low", "medium", "high"] as const),
      interests: [random.pick(SUBJECTS).name],
    });
    const processedIds: string[] = [];
    const chapterIds: string[] = [];
    for (let c = 0; c < plan.coursesPerUser; c++) {
      const s = random.int(0, SUBJECTS.length - 1);
      const subject = SUBJECTS[s]!;
      const courseId = random.uuid();
      const courseCentre = random.around(centres[s]!, COURSE_SIGMA);
      batch.courses.push({
        id: courseId,
        userId,
        title: random.pick(COURSE_TITLES).replace("{s}", subject.name),
        description: `A course on ${subject.name.toLowerCase()}: ${subject.terms.slice(0, 3).join(", ")} and more.`,
        subject: subject.name,
      });
      for (let d = 0; d < plan.documentsPerCourse; d++) {
        const documentId = random.uuid();
        const processedId = random.uuid();
        const docEmbedding = random.around(courseCentre, DOCUMENT_SIGMA);
        const kind = random.pick(DOCUMENT_KINDS);
        // Most uploads are processed; a few are waiting, in progress, or failed.
        const roll = random.next();
        const status = roll < 0.85 ? "completed" : roll < 0.9 ? "processing" : roll < 0.95 ? "pending" : "failed";
        batch.course_documents.push({
          id: documentId,
          courseId,
          userId,
          fileName: `${subject.name} ${kind} ${d + 1}.pdf`.replace(/ /g, "_"),
          s3Key: `seed/${plan.seed}/${documentId}.pdf`,
          mimeType: "application/pdf",
          fileSizeBytes: random.int(20_000, 5_000_000),
          processingStatus: status,
          processingError: status === "failed" ? "Text extraction failed: the PDF is scanned without OCR" : null,
        });
        batch.processed_documents.push({
          id: processedId,
          documentId,
          title: `${subject.name} ${kind} ${d + 1}`,
          summary: `Covers ${random.pick(subject.terms)} and ${random.pick(subject.terms)}.`,
          complexityLevel: random.pick(["low", "medium", "high"] as const),
          // Rounded in place unless its chapters are drawn around it (unrounded, as always).
          embedding: plan.embedChapters ? round(docEmbedding) : roundInPlace(docEmbedding),
          embeddingModel: "seed-768",
          conceptMap: { nodes: [], edges: [] },
        });
        processedIds.push(processedId);
        for (let ch = 0; ch < plan.chaptersPerDocument; ch++) {
          const chapterId = random.uuid();
          chapterIds.push(chapterId);
          batch.chapters.push({
            id: chapterId,
            processedDocumentId: processedId,
            chapterNumber: ch + 1,
            title: `${ch + 1}. ${capitalise(random.pick(subject.terms))}`,
            summary: `An introduction to ${random.pick(subject.terms)}.`,
            embedding: plan.embedChapters ? roundInPlace(random.around(docEmbedding, CHAPTER_SIGMA)) : null,
          });
          const keywordIds: string[] = [];
          const start = random.int(0, subject.terms.length - 1);
          for (let k = 0; k < plan.keywordsPerChapter; k++) {
            const base = subject.terms[(start + k) % subject.terms.length]!;
            const term = k < subject.terms.length ? base : `${base} (${Math.floor(k / subject.terms.length) + 1})`;
            const keywordId = random.uuid();
            keywordIds.push(keywordId);
            batch.keywords.push({
              id: keywordId,
              chapterId,
              term,
              definition: `${capitalise(term)}: a key idea of ${subject.name.toLowerCase()}.`,
              importance: Math.round(random.next() * 100) / 100,
              embedding: plan.embedKeywords ? roundInPlace(random.around(centres[s]!, KEYWORD_SIGMA)) : null,
            });
          }
          const edges = Math.min(plan.relationshipsPerChapter, Math.max(0, keywordIds.length - 1));
          for (let r = 0; r < edges; r++) {
            batch.relationships.push({
              sourceKeywordId: keywordIds[r]!,
              targetKeywordId: keywordIds[r + 1]!,
              relationshipType: random.pick(RELATIONSHIP_TYPES),
              strength: Math.round(random.next() * 100) / 100,
            });
          }
        }
      }
      yield PAUSE;
    }
    const withProgress = Math.round(chapterIds.length * plan.progress);
    for (const chapterId of chapterIds.slice(0, withProgress)) {
      const completion = random.next() < 0.4 ? 100 : random.int(0, 99);
      batch.user_progress.push({
        userId,
        chapterId,
        completionPercentage: completion,
        timeSpentSeconds: random.int(60, 3600),
      });
    }
    for (let a = 0; a < plan.annotationsPerUser; a++) {
      batch.user_annotations.push({
        userId,
        processedDocumentId: random.pick(processedIds),
        feedbackType: random.pick(["concept_map", "processing", "general", "analogy"] as const),
        rating: random.int(1, 5),
        comment: random.pick([
          "Clear and helpful.",
          "The concept map misses a link.",
          "Analogy did not land for me.",
          "Processing took long.",
        ]),
      });
    }
    yield batch;
  }
}

/** The subjects' embedding centres: the first vectors a seed's generator draws. */
function subjectCentres(random: Random): number[][] {
  return SUBJECTS.map(() => random.unitVector());
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
