import fs from 'node:fs';
import { loadBatchDataset, loadExportFolder } from '../export';
import { stackEndpoints } from '../stack';
import { temporalTarget } from '../stack/temporal-target';
import { fromDataset, isMuseExport } from '../viewer/source';
import { readRecordFolder, type RecordSource } from '../readers/muse-record';
import { serveViewer } from '../viewer/server';
import { conversationUiUrl, openSession } from './connection';

/** Where conversations' runs are shown, when this machine knows a Temporal Web UI; else no links. */
function runLinks(): (id: string) => string | null {
  try {
    const ep = stackEndpoints();
    const temporal = temporalTarget({ address: ep.temporalAddress, uiUrl: ep.uiUrl });
    return (id) => conversationUiUrl({ uiUrl: temporal.uiUrl, temporal }, id);
  } catch {
    return () => null;
  }
}

/**
 * What `muse view` shows: a folder (an export of ours, or any Muse-format records), or a batch read
 * from the database with every reviewed conversation (the filters, not the export's thresholds, narrow it).
 */
export async function viewSource(target: string): Promise<RecordSource> {
  if (fs.statSync(target, { throwIfNoEntry: false })?.isDirectory()) {
    if (!isMuseExport(target)) return readRecordFolder(target);
    // The viewer needs no item records: an export older than items.jsonl is shown without them.
    const { dataset, problems } = await loadExportFolder(target, undefined, { itemsOptional: true });
    return { ...fromDataset(dataset, runLinks()), problems };
  }
  const s = await openSession();
  try {
    const ds = await loadBatchDataset(s.pool, target, { minScore: 0, requireScreener: false });
    if (ds.records.length === 0)
      throw new Error(
        `batch ${target} has no reviewed conversation to show yet (\`muse status ${target}\` says where it is)`,
      );
    return fromDataset(ds, (id) => conversationUiUrl(s, id));
  } finally {
    await s.close();
  }
}

export async function runViewer(target: string, o: { port: number; host: string }): Promise<void> {
  const src = await viewSource(target);
  const v = await serveViewer(src, o);
  console.log(
    `muse view: ${src.conversations.length} conversations of ${src.title} at ${v.url}${src.problems.length ? ` (${src.problems.length} record(s) left out; the page lists them)` : ''}\nCtrl-C stops it.`,
  );
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await v.close();
}
