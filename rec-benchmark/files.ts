import fs from 'node:fs';
import { describeProblems } from '../schemas/problems';
import type { z } from 'zod';

/** Reads a JSONL file line by line against a schema: the good rows (with their line numbers) and one error per bad line. */
export function parseJsonl<T>(
  file: string,
  schema: z.ZodType<T>,
): { rows: Array<{ line: number; row: T }>; errors: string[] } {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  const rows: Array<{ line: number; row: T }> = [];
  const errors: string[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!text.trim()) return;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        errors.push(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
        return;
      }
      const r = schema.safeParse(json);
      if (r.success) rows.push({ line: i + 1, row: r.data });
      else errors.push(`${file}:${i + 1}: ${describeProblems(r.error)}`);
    });
  return { rows, errors };
}

/** The first ten problems and how many more: an error message that stays readable. */
export const listProblems = (errors: readonly string[]) =>
  errors.slice(0, 10).join('\n') + (errors.length > 10 ? `\n… and ${errors.length - 10} more` : '');

/** Reads a JSONL file that must be valid throughout; a bad line is an error naming the file and line. */
export function readJsonl<T>(file: string, schema: z.ZodType<T>): T[] {
  const { rows, errors } = parseJsonl(file, schema);
  if (errors.length) throw new Error(listProblems(errors));
  return rows.map((r) => r.row);
}

export const writeJsonl = (file: string, rows: readonly unknown[]) =>
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
