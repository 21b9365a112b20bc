// The intent classifier: multinomial logistic regression over text features (text-features.ts), trained
// by src/eval/train-intent.ts on the dataset's train split and shipped as model/intent-model.json.
// Training here is pure and deterministic (fixed iteration count, no randomness), so the same data and
// options always give the same model file.

import { z } from "zod";
import { compileCueIndex, findCuesInFolded, foldForMatching, type CueIndex, type CueList } from "./cue-matching.ts";
import { DEFAULT_FEATURE_OPTIONS, extractFeatures, type FeatureOptions, type FeatureVector } from "./text-features.ts";

export const MODEL_FORMAT = "steward.intent-model.v1";

/** Lexicon concept categories are "concept:<intent>" in cue indexes. */
export const CONCEPT_CATEGORY_PREFIX = "concept:";

const featureOptionsSchema = z.object({
  charNgramMin: z.number().int().min(1),
  charNgramMax: z.number().int().min(1),
  unsegmentedNgramMin: z.number().int().min(1),
  unsegmentedNgramMax: z.number().int().min(1),
  wordUnigrams: z.boolean(),
  charWeight: z.number().min(0),
  wordWeight: z.number().min(0),
  conceptWeight: z.number().min(0),
});

const trainingOptionsSchema = z.object({
  iterations: z.number().int().min(1),
  learningRate: z.number().positive(),
  l2: z.number().min(0),
  minDocumentFrequency: z.number().int().min(1),
  pruneBelow: z.number().min(0),
});

const intentModelSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    modelVersion: z.string().min(1),
    labels: z.array(z.string().min(1)).min(2),
    featureOptions: featureOptionsSchema,
    training: z.object({
      examples: z.number().int().min(1),
      dataSha256: z.string(),
      options: trainingOptionsSchema,
    }),
    lexicon: z.record(z.string(), z.array(z.string())),
    bias: z.array(z.number()),
    weights: z.record(z.string(), z.array(z.number())),
  })
  .superRefine((model, context) => {
    if (model.bias.length !== model.labels.length) {
      context.addIssue({
        code: "custom",
        path: ["bias"],
        message: `has ${model.bias.length} values for ${model.labels.length} labels`,
      });
    }
    for (const [feature, row] of Object.entries(model.weights)) {
      if (row.length !== model.labels.length) {
        context.addIssue({
          code: "custom",
          path: ["weights", feature],
          message: `has ${row.length} values for ${model.labels.length} labels`,
        });
        return;
      }
    }
  });

export type IntentModel = z.infer<typeof intentModelSchema>;
export type TrainingOptions = z.infer<typeof trainingOptionsSchema>;

export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = {
  iterations: 300,
  learningRate: 0.05,
  l2: 0.0005,
  minDocumentFrequency: 2,
  pruneBelow: 0.02,
};

export class InvalidIntentModelError extends Error {
  readonly code = "INVALID_INTENT_MODEL";
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`intent model is invalid: ${issues.join("; ")}`);
    this.issues = issues;
    this.name = "InvalidIntentModelError";
  }
}

/** Validates a parsed model file. Throws InvalidIntentModelError naming each problem. */
export function parseIntentModel(json: unknown): IntentModel {
  const result = intentModelSchema.safeParse(json);
  if (!result.success) {
    throw new InvalidIntentModelError(result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`));
  }
  return result.data;
}

/** A model made ready for fast scoring. */
export interface IntentClassifier {
  readonly model: IntentModel;
  /** Feature → one weight per label (typed arrays: scoring is the hot loop of triage). */
  readonly weights: ReadonlyMap<string, Float64Array>;
  /** The model's lexicon as cue lists with "concept:<intent>" categories. */
  readonly lexiconLists: readonly CueList[];
  readonly lexiconIndex: CueIndex;
}

export interface IntentScore {
  readonly intent: string;
  /** Softmax probability, 0..1. */
  readonly probability: number;
}

export function compileIntentClassifier(model: IntentModel): IntentClassifier {
  const lexiconLists = lexiconToCueLists(model.lexicon);
  return {
    model,
    weights: new Map(Object.entries(model.weights).map(([feature, row]) => [feature, Float64Array.from(row)])),
    lexiconLists,
    lexiconIndex: compileCueIndex(lexiconLists),
  };
}

export function lexiconToCueLists(lexicon: Readonly<Record<string, readonly string[]>>): CueList[] {
  return Object.entries(lexicon).map(([intent, cues]) => ({
    category: `${CONCEPT_CATEGORY_PREFIX}${intent}`,
    cues,
  }));
}

/** The lexicon concepts (intent names) among cue-match categories, repeated once per occurrence. */
export function conceptsFromCategories(categories: Iterable<string>): string[] {
  const concepts: string[] = [];
  for (const category of categories) {
    if (category.startsWith(CONCEPT_CATEGORY_PREFIX)) concepts.push(category.slice(CONCEPT_CATEGORY_PREFIX.length));
  }
  return concepts;
}

/** The model's input text: subject and new text together, as both carry the request. */
export function intentInputText(subject: string | undefined, newText: string): string {
  const trimmedSubject = subject?.trim() ?? "";
  return trimmedSubject === "" ? newText : `${trimmedSubject}\n${newText}`;
}

/** Probabilities for every label, best first, for a text already folded (foldForMatching). */
export function scoreIntents(classifier: IntentClassifier, foldedText: string, concepts: readonly string[]): IntentScore[] {
  const features = extractFeatures(foldedText, concepts, classifier.model.featureOptions);
  return scoreFeatures(classifier.model.labels, classifier.model.bias, classifier.weights, features);
}

/** Convenience for evaluation: fold, find lexicon concepts, score. */
export function classifyText(classifier: IntentClassifier, text: string): IntentScore[] {
  const folded = foldForMatching(text);
  const concepts = conceptsFromCategories(findCuesInFolded(classifier.lexiconIndex, folded).map((match) => match.category));
  return scoreIntents(classifier, folded, concepts);
}

function scoreFeatures(labels: readonly string[], bias: readonly number[], weights: ReadonlyMap<string, Float64Array>, features: FeatureVector): IntentScore[] {
  const logits = Float64Array.from(bias);
  for (const [feature, value] of features) {
    const row = weights.get(feature);
    if (row === undefined) continue;
    for (let label = 0; label < logits.length; label++) logits[label]! += value * row[label]!;
  }
  const probabilities = softmax(Array.from(logits));
  return labels
    .map((intent, label) => ({
      intent,
      probability: probabilities[label] ?? 0,
    }))
    .sort((a, b) => b.probability - a.probability || a.intent.localeCompare(b.intent));
}

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((logit) => Math.exp(logit - max));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}

export interface TrainingExample {
  /** Subject and new text (intentInputText), not yet folded. */
  readonly text: string;
  readonly intent: string;
}

export interface TrainIntentModelInput {
  readonly examples: readonly TrainingExample[];
  readonly labels: readonly string[];
  /** intent → cues in any language. */
  readonly lexicon: Readonly<Record<string, readonly string[]>>;
  readonly featureOptions?: FeatureOptions;
  readonly trainingOptions?: TrainingOptions;
  /** Identifies the training data (e.g. sha256 of the train rows); recorded in the model. */
  readonly dataSha256: string;
  /** Names this model (e.g. a hash of its content); the caller computes it since hashing is not pure JS. */
  readonly versionOf?: (model: Omit<IntentModel, "modelVersion">) => string;
}

/**
 * Trains the classifier by full-batch gradient descent with Adam on softmax cross-entropy plus L2.
 * Deterministic: the same inputs give the same weights, bit for bit.
 */
export function trainIntentModel(input: TrainIntentModelInput): IntentModel {
  const featureOptions = input.featureOptions ?? DEFAULT_FEATURE_OPTIONS;
  const options = input.trainingOptions ?? DEFAULT_TRAINING_OPTIONS;
  const labels = [...input.labels];
  const labelIndex = new Map(labels.map((label, index) => [label, index]));
  const lexiconIndex = compileCueIndex(lexiconToCueLists(input.lexicon));

  const documents = input.examples.map((example) => {
    const label = labelIndex.get(example.intent);
    if (label === undefined) throw new Error(`training example has unknown intent "${example.intent}"`);
    const folded = foldForMatching(example.text);
    const concepts = conceptsFromCategories(findCuesInFolded(lexiconIndex, folded).map((match) => match.category));
    return {
      label,
      features: extractFeatures(folded, concepts, featureOptions),
    };
  });

  // Vocabulary in first-seen order, filtered by document frequency.
  const documentFrequency = new Map<string, number>();
  for (const document of documents) {
    for (const feature of document.features.keys()) documentFrequency.set(feature, (documentFrequency.get(feature) ?? 0) + 1);
  }
  const vocabulary = [...documentFrequency.entries()]
    .filter(([, frequency]) => frequency >= options.minDocumentFrequency)
    .map(([feature]) => feature)
    .sort();
  const featureIndex = new Map(vocabulary.map((feature, index) => [feature, index]));
  const sparse = documents.map((document) => {
    const indices: number[] = [];
    const values: number[] = [];
    for (const [feature, value] of document.features) {
      const index = featureIndex.get(feature);
      if (index === undefined) continue;
      indices.push(index);
      values.push(value);
    }
    return { label: document.label, indices, values };
  });

  const labelCount = labels.length;
  const parameterCount = (vocabulary.length + 1) * labelCount; // last row: bias
  const weights = new Float64Array(parameterCount);
  const gradient = new Float64Array(parameterCount);
  const firstMoment = new Float64Array(parameterCount);
  const secondMoment = new Float64Array(parameterCount);
  const biasOffset = vocabulary.length * labelCount;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const epsilon = 1e-8;
  const logits = new Float64Array(labelCount);

  for (let iteration = 1; iteration <= options.iterations; iteration++) {
    gradient.fill(0);
    for (const document of sparse) {
      for (let label = 0; label < labelCount; label++) logits[label] = weights[biasOffset + label] ?? 0;
      for (let position = 0; position < document.indices.length; position++) {
        const offset = (document.indices[position] ?? 0) * labelCount;
        const value = document.values[position] ?? 0;
        for (let label = 0; label < labelCount; label++) logits[label] = (logits[label] ?? 0) + value * (weights[offset + label] ?? 0);
      }
      const probabilities = softmax(Array.from(logits));
      for (let label = 0; label < labelCount; label++) {
        const error = ((probabilities[label] ?? 0) - (label === document.label ? 1 : 0)) / sparse.length;
        gradient[biasOffset + label] = (gradient[biasOffset + label] ?? 0) + error;
        for (let position = 0; position < document.indices.length; position++) {
          const offset = (document.indices[position] ?? 0) * labelCount + label;
          gradient[offset] = (gradient[offset] ?? 0) + error * (document.values[position] ?? 0);
        }
      }
    }
    const correction1 = 1 - beta1 ** iteration;
    const correction2 = 1 - beta2 ** iteration;
    for (let parameter = 0; parameter < parameterCount; parameter++) {
      const weight = weights[parameter] ?? 0;
      const regularised = (gradient[parameter] ?? 0) + (parameter < biasOffset ? options.l2 * weight : 0);
      const m = beta1 * (firstMoment[parameter] ?? 0) + (1 - beta1) * regularised;
      const v = beta2 * (secondMoment[parameter] ?? 0) + (1 - beta2) * regularised * regularised;
      firstMoment[parameter] = m;
      secondMoment[parameter] = v;
      weights[parameter] = weight - (options.learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + epsilon);
    }
  }

  const roundWeight = (value: number): number => Math.round(value * 10_000) / 10_000;
  const weightTable: Record<string, number[]> = {};
  vocabulary.forEach((feature, index) => {
    const row = Array.from(weights.subarray(index * labelCount, (index + 1) * labelCount), roundWeight);
    if (row.some((value) => Math.abs(value) >= options.pruneBelow)) weightTable[feature] = row;
  });
  const lexicon: Record<string, string[]> = {};
  for (const [intent, cues] of Object.entries(input.lexicon)) lexicon[intent] = [...cues];

  const unversioned: Omit<IntentModel, "modelVersion"> = {
    format: MODEL_FORMAT,
    labels,
    featureOptions,
    training: {
      examples: input.examples.length,
      dataSha256: input.dataSha256,
      options,
    },
    lexicon,
    bias: Array.from(weights.subarray(biasOffset, biasOffset + labelCount), roundWeight),
    weights: weightTable,
  };
  const modelVersion = input.versionOf?.(unversioned) ?? "unversioned";
  const { format, ...rest } = unversioned;
  return { format, modelVersion, ...rest };
}
