import { Shape } from './search-attributes';

/**
 * The shape of this release's workflows, stamped on every run it starts (search attribute MuseShape).
 * A release raises it when it stops replaying the shape before (CONTRIBUTING.md, "Upgrading"): a worker
 * then finds the open runs it could not replay before it takes any work.
 */
export const WORKFLOW_SHAPE = '1';
/** The shapes whose histories this code replays: its own, and while its patches last, the one before. */
export const REPLAYED_SHAPES: readonly string[] = [WORKFLOW_SHAPE];

/** For a start's `typedSearchAttributes`: continue-as-new keeps it, a child must be given it. */
export const shapeAttribute = { key: Shape, value: WORKFLOW_SHAPE };
