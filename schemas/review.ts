import { z } from 'zod';

/** Stage 4's verdict on one conversation (table reviews), as activities hand it to workflows. */
export const Review = z.object({
  pass: z.string().describe('the prompt versions of the optimisation pass that produced it'),
  contentQuality: z.number().int().min(0).max(2),
  logicalFluency: z.number().int().min(0).max(2),
  userConsistency: z.number().int().min(0).max(2),
  total: z.number().int().min(0).max(6),
  fitsContext: z.boolean(),
});
export type Review = z.infer<typeof Review>;

/** What the rewrite step did to one conversation. */
export const RewriteSummary = z.object({
  pass: z.string(),
  utterances: z.number().int(),
  accepted: z.number().int(),
  reused: z.number().int().describe('rewrites already stored for this pass: no agent was called for them'),
});
export type RewriteSummary = z.infer<typeof RewriteSummary>;

/** The method's filter (stage 4), applied at export time so it can change without new LLM calls. */
export const Thresholds = z.object({
  minScore: z.number().min(0).max(6).default(4),
  requireScreener: z.boolean().default(true),
});
export type Thresholds = z.infer<typeof Thresholds>;
