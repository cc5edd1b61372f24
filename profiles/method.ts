import type { Gender, ScenarioGroup } from '../schemas/profile';

/** Stage 2 probabilities, as the method gives them (../shared/MUSE_METHOD.md). */
export const SCENARIO_GROUP_WEIGHTS: ReadonlyArray<readonly [ScenarioGroup, number]> = [
  ['Worn-out', 0.02],
  ['Work', 0.01],
  ['Season', 0.01],
  ['Trend', 0.03],
  ['Sports', 0.2],
  ['Gifts', 0.2],
  ['Attend', 0.33],
  ['Celebrate', 0.2],
];
export const GENDER_WEIGHTS: ReadonlyArray<readonly [Gender, number]> = [
  ['male', 0.45],
  ['female', 0.45],
  ['unknown', 0.1],
];
export const AGE_RANGE = [5, 70] as const;
/** No profession at or below this age. */
export const MAX_AGE_WITHOUT_PROFESSION = 15;
export const MIN_ITEMS_PER_CATEGORY = 5;
