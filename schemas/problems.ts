import type { ZodError } from 'zod';

/** A zod error as one line that names each field and what is wrong with it ("price: Invalid input..."). */
export const describeProblems = (e: ZodError, whole = '(line)'): string =>
  e.issues.map((i) => `${i.path.join('.') || whole}: ${i.message}`).join('; ');
