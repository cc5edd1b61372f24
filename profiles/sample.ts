import type { Pool } from '../db/pool';
import { Rng } from '../random';
import { ProfileSample, ScenarioGroup } from '../schemas/profile';
import {
  AGE_RANGE,
  GENDER_WEIGHTS,
  MAX_AGE_WITHOUT_PROFESSION,
  MIN_ITEMS_PER_CATEGORY,
  SCENARIO_GROUP_WEIGHTS,
} from './method';
import scenarios from './scenarios.json';
import people from './people.json';
import { categoryMembers } from '../db/items';

const POOL = scenarios as Record<ScenarioGroup, string[]>;

export interface CategoryPool {
  name: string;
  /** Every item of the category, in a stable order (the weight is its length). */
  itemIds: string[];
  /** The items that can be a target: with a stage-1 caption and an image. */
  eligible: Set<string>;
}

export const NO_TARGETS =
  'the catalog has no product-type category with a captioned item that has an image: import a catalog (or `muse catalog demo`), then run `muse catalog caption` and `muse catalog filter` (stage 1)';

/** Product-type categories with enough items, and which of their items can be targets. */
export async function loadCategoryPools(pool: Pool): Promise<CategoryPool[]> {
  const rows = await categoryMembers(pool, MIN_ITEMS_PER_CATEGORY);
  return rows
    .filter((row) => row.eligible?.length)
    .map((row) => ({ name: row.name, itemIds: row.ids, eligible: new Set(row.eligible) }));
}

/**
 * One stage-2 sample in the method's order: category by item count, target uniform in it (re-drawn
 * until it has a description and an image), scenario group by weight and a scenario in it, age, gender,
 * a name of that gender, a profession unless the person is 15 or younger. Same key, same sample.
 */
export function sampleProfile(categories: readonly CategoryPool[], ...key: Array<string | number>): ProfileSample {
  if (categories.length === 0) throw new Error(NO_TARGETS);
  const rng = new Rng('profile', ...key);
  const category = rng.weighted(categories.map((c) => [c, c.itemIds.length] as const));
  let targetItemId: string;
  do targetItemId = rng.pick(category.itemIds);
  while (!category.eligible.has(targetItemId));
  const scenarioGroup = rng.weighted(SCENARIO_GROUP_WEIGHTS);
  const scenario = rng.pick(POOL[scenarioGroup]);
  const age = rng.int(AGE_RANGE[0], AGE_RANGE[1]);
  const gender = rng.weighted(GENDER_WEIGHTS);
  const name = rng.pick(people.names[gender]);
  const profession = age <= MAX_AGE_WITHOUT_PROFESSION ? null : rng.pick(people.professions);
  return ProfileSample.parse({
    category: category.name,
    targetItemId,
    scenarioGroup,
    scenario,
    age,
    gender,
    name,
    profession,
  });
}
