import fs from 'node:fs';
import { describeProblems } from '../schemas/problems';
import type { z } from 'zod';

/** Reads a JSONL file line by line against a schema; a bad line is an error naming the file and line. */
export function readJsonl<T>(file: string, schema: z.ZodType<T>): T[] {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  const out: T[] = [];
  const errors: string[] = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      errors.push(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
      return;
    }
    const r = schema.safeParse(json);
    if (r.success) out.push(r.data);
    else errors.push(`${file}:${i + 1}: ${describeProblems(r.error)}`);
  });
  if (errors.length) throw new Error(errors.slice(0, 10).join('\n') + (errors.length > 10 ? `\n… and ${errors.length - 10} more` : ''));
  return out;
}

export const writeJsonl = (file: string, rows: readonly unknown[]) => fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
