/**
 * Subjects with the terms a course on them would extract: realistic text for titles, search
 * and keyword data. Each subject is also an embedding topic centre.
 */
export interface Subject {
  name: string;
  terms: readonly string[];
}

export const SUBJECTS: readonly Subject[] = [
  { name: "Biology", terms: ["mitochondria", "ribosome", "chloroplast", "cell membrane", "nucleus", "cytoplasm", "mitosis", "meiosis", "photosynthesis", "cellular respiration", "enzyme", "protein synthesis", "DNA replication", "transcription", "translation", "natural selection", "homeostasis", "osmosis", "diffusion", "genotype", "phenotype", "allele", "chromosome", "endoplasmic reticulum", "golgi apparatus", "lysosome", "vacuole", "cell wall", "ecosystem", "biodiversity"] },
  { name: "Chemistry", terms: ["covalent bond", "ionic bond", "electronegativity", "oxidation", "reduction", "catalyst", "activation energy", "equilibrium constant", "molarity", "stoichiometry", "isotope", "valence electron", "hydrocarbon", "polymer", "titration", "buffer solution", "enthalpy", "entropy", "reaction rate", "periodic table", "noble gas", "alkali metal", "acid dissociation", "hydrogen bond", "molecular orbital"] },
  { name: "Physics", terms: ["velocity", "acceleration", "momentum", "kinetic energy", "potential energy", "friction", "gravity", "electric field", "magnetic flux", "wavelength", "frequency", "refraction", "diffraction", "thermodynamics", "quantum tunneling", "photon", "relativity", "torque", "angular momentum", "oscillation", "resonance", "capacitor", "resistance", "inductance", "semiconductor"] },
  { name: "History", terms: ["renaissance", "reformation", "industrial revolution", "feudalism", "enlightenment", "colonialism", "cold war", "french revolution", "magna carta", "ottoman empire", "silk road", "treaty of versailles", "great depression", "civil rights movement", "roman republic", "byzantine empire", "printing press", "mercantilism", "nationalism", "decolonization"] },
  { name: "Economics", terms: ["supply and demand", "elasticity", "opportunity cost", "marginal utility", "inflation", "monetary policy", "fiscal policy", "gross domestic product", "comparative advantage", "market equilibrium", "price ceiling", "monopoly", "oligopoly", "externality", "public good", "interest rate", "exchange rate", "unemployment", "game theory", "consumer surplus"] },
  { name: "Computer Science", terms: ["algorithm", "data structure", "binary search", "hash table", "linked list", "recursion", "dynamic programming", "graph traversal", "big o notation", "compiler", "operating system", "concurrency", "deadlock", "virtual memory", "relational database", "normalization", "encryption", "neural network", "gradient descent", "turing machine"] },
  { name: "Psychology", terms: ["classical conditioning", "operant conditioning", "cognitive dissonance", "working memory", "long-term memory", "attachment theory", "confirmation bias", "neuroplasticity", "motivation", "perception", "heuristic", "social learning", "personality trait", "placebo effect", "circadian rhythm", "emotional intelligence", "developmental stage", "self-efficacy", "groupthink", "anchoring"] },
  { name: "Mathematics", terms: ["derivative", "integral", "limit", "eigenvalue", "matrix", "vector space", "probability", "bayes theorem", "prime number", "modular arithmetic", "differential equation", "fourier series", "topology", "group theory", "polynomial", "logarithm", "standard deviation", "regression", "combinatorics", "proof by induction"] },
];

export const COURSE_TITLES = ["Introduction to {s}", "Foundations of {s}", "Advanced {s}", "{s} for Beginners", "Applied {s}", "{s} in Practice", "Topics in {s}", "{s} Essentials"];
export const DOCUMENT_KINDS = ["Lecture Notes", "Textbook Chapter", "Study Guide", "Lab Manual", "Review Sheet", "Reading"];
export const RELATIONSHIP_TYPES = ["is_a", "part_of", "causes", "related_to", "precedes", "contrasts_with"];
