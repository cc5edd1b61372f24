import { z } from 'zod';

export const Gender = z.enum(['male', 'female', 'unknown']);
export type Gender = z.infer<typeof Gender>;

export const ScenarioGroup = z.enum(['Worn-out', 'Work', 'Season', 'Trend', 'Sports', 'Gifts', 'Attend', 'Celebrate']);
export type ScenarioGroup = z.infer<typeof ScenarioGroup>;

/** The stage-2 sample before any LLM call: who the user is, what they face, what they will end up buying. */
export const ProfileSample = z.object({
  category: z.string(),
  targetItemId: z.string(),
  scenarioGroup: ScenarioGroup,
  scenario: z.string(),
  age: z.number().int().min(5).max(70),
  gender: Gender,
  name: z.string(),
  profession: z.string().nullable(),
});
export type ProfileSample = z.infer<typeof ProfileSample>;

/** The backstory writer's structured output. */
export const Backstory = z.object({
  scenario: z.string().min(1).describe('a short story of an upcoming event that leads to an online purchase'),
  requirement: z.string().min(1).describe('requirements on exactly two features of the wanted product'),
});
export type Backstory = z.infer<typeof Backstory>;

/** A row of table profiles. */
export const Profile = ProfileSample.extend({
  id: z.string(),
  seed: z.number().int(),
  seq: z.number().int(),
  backstory: z.string(),
  requirement: z.string(),
  status: z.enum(['accepted', 'gated_out', 'duplicate']),
});
export type Profile = z.infer<typeof Profile>;

export function personaLine(p: Pick<Profile, 'name' | 'gender' | 'age' | 'profession'>): string {
  return `Name: ${p.name}, Gender: ${p.gender}, Age: ${p.age}, Profession: ${p.profession ?? 'None'}`;
}
