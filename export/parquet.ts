import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * A column type, written once and read three ways: as DuckDB's type (to write the Parquet), as the
 * Hugging Face feature in the dataset card's YAML, and as the feature JSON `datasets` keeps in the
 * Parquet's own metadata (so the Hub and `load_dataset` see images as images and nested columns as such).
 */
export type Col =
  | 'string'
  | 'int64'
  | 'float64'
  | 'bool'
  /** A Hugging Face Image: {bytes, path}; rows give it as {bytes: Buffer, path}. */
  | 'image'
  | { list: Col }
  | { struct: Record<string, Col> };
export type Schema = Record<string, Col>;

const DUCK: Record<string, string> = { string: 'VARCHAR', int64: 'BIGINT', float64: 'DOUBLE', bool: 'BOOLEAN' };

function duckType(c: Col, json = false): string {
  if (c === 'image') return `STRUCT(bytes ${json ? 'VARCHAR' : 'BLOB'}, path VARCHAR)`;
  if (typeof c === 'string') return DUCK[c];
  if ('list' in c) return `${duckType(c.list, json)}[]`;
  return `STRUCT(${Object.entries(c.struct)
    .map(([k, v]) => `"${k}" ${duckType(v, json)}`)
    .join(', ')})`;
}

/**
 * The feature as `datasets` serialises it (Features.to_dict): what the Parquet's "huggingface" metadata
 * holds. Lists use the form every `datasets` release reads: Sequence of a value, a one-element list of a struct.
 */
function hfJson(c: Col): unknown {
  if (c === 'image') return { _type: 'Image' };
  if (typeof c === 'string') return { dtype: c, _type: 'Value' };
  if ('list' in c)
    return typeof c.list === 'object' && 'struct' in c.list
      ? [hfJson(c.list)]
      : { feature: hfJson(c.list), _type: 'Sequence' };
  return Object.fromEntries(Object.entries(c.struct).map(([k, v]) => [k, hfJson(v)]));
}

/** The feature as a dataset card's `dataset_info.features` YAML lists it (a list of {name, ...}). */
export function hfYamlFeatures(schema: Schema): unknown[] {
  const one = (name: string, c: Col): Record<string, unknown> => {
    if (c === 'image') return { name, dtype: 'image' };
    if (typeof c === 'string') return { name, dtype: c };
    if ('list' in c) {
      const inner = c.list;
      if (typeof inner === 'string') return { name, sequence: inner };
      if ('struct' in inner) return { name, list: Object.entries(inner.struct).map(([k, v]) => one(k, v)) };
      return { name, list: one('item', inner) };
    }
    return { name, struct: Object.entries(c.struct).map(([k, v]) => one(k, v)) };
  };
  return Object.entries(schema).map(([k, v]) => one(k, v));
}

/** Images go to DuckDB as base64 text and become BLOBs in the SELECT that writes the file. */
function jsonSafe(row: Record<string, unknown>, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, c] of Object.entries(schema)) {
    const v = row[k];
    out[k] =
      c === 'image' && v
        ? { bytes: (v as { bytes: Buffer }).bytes.toString('base64'), path: (v as { path: string }).path }
        : v;
  }
  return out;
}

/**
 * Writes rows to a Parquet file (zstd) through DuckDB's writer: nested lists and structs as Parquet's
 * nested types, images as {bytes, path} structs, and the Hugging Face features in the file's metadata.
 */
export async function writeParquet(
  file: string,
  schema: Schema,
  rows: ReadonlyArray<Record<string, unknown>>,
  o: { rowGroupSize?: number } = {},
): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const staging = `${file}.jsonl`;
  fs.writeFileSync(staging, rows.map((r) => JSON.stringify(jsonSafe(r, schema))).join('\n') + '\n');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
    const columns = Object.entries(schema)
      .map(([k, c]) => `"${k}": ${q(duckType(c, true))}`)
      .join(', ');
    const select = Object.entries(schema)
      .map(([k, c]) =>
        c === 'image'
          ? `CASE WHEN "${k}" IS NULL THEN NULL ELSE struct_pack(bytes := from_base64("${k}".bytes), path := "${k}".path) END AS "${k}"`
          : `"${k}"`,
      )
      .join(', ');
    const meta = JSON.stringify({
      info: { features: Object.fromEntries(Object.entries(schema).map(([k, c]) => [k, hfJson(c)])) },
    });
    await con.run(
      `COPY (SELECT ${select} FROM read_json(${q(staging)}, format = 'newline_delimited', columns = {${columns}}))
       TO ${q(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${o.rowGroupSize ?? 1000}, KV_METADATA {huggingface: ${q(meta)}})`,
    );
  } finally {
    con.closeSync();
    db.closeSync();
    fs.rmSync(staging, { force: true });
  }
}
