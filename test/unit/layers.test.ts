import { describe, expect, it } from 'vitest';
import { COLLECTOR_WORKFLOW } from '../../common/ids';
import * as workflows from '../../workflows';
import { cycles, importGraph, layerOf, upward } from '../../scripts/import-graph';

describe('the layers (layers.json, docs/ARCHITECTURE.md)', () => {
  const { files, edges } = importGraph();

  it('place every source folder in a layer', () => {
    for (const f of files) expect(() => layerOf(f)).not.toThrow();
  });

  it('hold: no import goes up a layer', () => {
    expect(upward(edges).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('leave no import cycle among runtime modules', () => {
    expect(cycles(files, edges)).toEqual([]);
  });

  it('start the collector by a name the workflows export (activities do not import workflows)', () => {
    expect(typeof (workflows as Record<string, unknown>)[COLLECTOR_WORKFLOW]).toBe('function');
  });
});
