import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes: how runs are found in the Web UI (e.g. `MuseBatchId="demo" AND MuseOutcome="forced"`). */
export const BatchId = defineSearchAttributeKey('MuseBatchId', SearchAttributeType.KEYWORD);
export const Opening = defineSearchAttributeKey('MuseOpening', SearchAttributeType.KEYWORD);
export const Outcome = defineSearchAttributeKey('MuseOutcome', SearchAttributeType.KEYWORD);
export const TargetItem = defineSearchAttributeKey('MuseTargetItem', SearchAttributeType.KEYWORD);
/** The workflow shape a run was started with (common/shape.ts): what a worker checks before it takes over open runs. */
export const Shape = defineSearchAttributeKey('MuseShape', SearchAttributeType.KEYWORD);

/** The same set, in the form `temporal server start-dev --search-attribute` and the operator API take. */
export const SEARCH_ATTRIBUTES = {
  MuseBatchId: 'Keyword',
  MuseOpening: 'Keyword',
  MuseOutcome: 'Keyword',
  MuseTargetItem: 'Keyword',
  MuseShape: 'Keyword',
} as const;
