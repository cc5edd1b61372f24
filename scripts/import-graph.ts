/**
 * The runtime modules' import graph, read from the code: every relative import between the project's
 * source folders, whether it goes upward in the layers of layers.json, and the cycles among imports that
 * exist at run time (`import type` is erased, so it cannot make a cycle). `npx tsx scripts/import-graph.ts`
 * prints the figures; test/unit/layers.test.ts holds the tree to them.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const ROOT = path.resolve(__dirname, '..');

interface Layers {
  /** Bottom first; a folder may import its own layer and those below it. */
  layers: string[][];
  /** Folders that are tests, benchmarks and scripts: they may import anything and are not graphed. */
  outside: string[];
}

export const LAYERS: Layers = JSON.parse(fs.readFileSync(path.join(ROOT, 'layers.json'), 'utf8'));

export interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** The folder a module belongs to (a top-level file is its own "folder", e.g. worker.ts). */
export const folderOf = (file: string) => (file.includes('/') ? file.split('/')[0] : file);

export function layerOf(file: string): number {
  const f = folderOf(file);
  const i = LAYERS.layers.findIndex((l) => l.includes(f));
  if (i < 0) throw new Error(`${file}: its folder ${f} is in no layer of layers.json (add it there)`);
  return i;
}

function sourceFiles(dir = ROOT, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    if (!rel && e.isDirectory() && LAYERS.outside.includes(e.name)) continue;
    if (e.isDirectory()) out.push(...sourceFiles(path.join(dir, e.name), r));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(r);
  }
  return out;
}

function resolve(from: string, spec: string, files: Set<string>): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const c of [base, `${base}.ts`, `${base}/index.ts`]) if (files.has(c)) return c;
  return undefined;
}

export function importGraph(): { files: string[]; edges: Edge[] } {
  const files = sourceFiles().sort();
  const known = new Set(files);
  const edges: Edge[] = [];
  for (const file of files) {
    const src = ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.ES2022);
    const visit = (n: ts.Node) => {
      let spec: string | undefined;
      let typeOnly = false;
      if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) {
        spec = (n.moduleSpecifier as ts.StringLiteral).text;
        if (ts.isImportDeclaration(n)) {
          const c = n.importClause;
          typeOnly =
            !!c &&
            (c.isTypeOnly ||
              (!c.name &&
                !!c.namedBindings &&
                ts.isNamedImports(c.namedBindings) &&
                c.namedBindings.elements.length > 0 &&
                c.namedBindings.elements.every((e) => e.isTypeOnly)));
        } else typeOnly = n.isTypeOnly;
      } else if (
        ts.isCallExpression(n) &&
        n.expression.kind === ts.SyntaxKind.ImportKeyword &&
        n.arguments[0] &&
        ts.isStringLiteral(n.arguments[0])
      ) {
        spec = n.arguments[0].text;
      } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
        spec = n.argument.literal.text;
        typeOnly = true;
      }
      if (spec) {
        const to = resolve(file, spec, known);
        if (to) edges.push({ from: file, to, typeOnly });
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return { files, edges };
}

/** Imports from a lower layer to a higher one. */
export const upward = (edges: Edge[]) => edges.filter((e) => layerOf(e.to) > layerOf(e.from));

/** Strongly connected components of more than one module among runtime imports (Tarjan). */
export function cycles(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (!e.typeOnly && e.from !== e.to) next.get(e.from)!.push(e.to);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of next.get(v)!) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) strong(f);
  return out;
}

if (require.main === module) {
  const { files, edges } = importGraph();
  const up = upward(edges);
  const cyc = cycles(files, edges);
  console.log(`${files.length} modules, ${edges.length} imports between them`);
  console.log(`${up.length} upward imports${up.length ? ':' : ''}`);
  for (const e of up) console.log(`  ${e.from} -> ${e.to}${e.typeOnly ? ' (type only)' : ''}`);
  console.log(`${cyc.length} import cycles among runtime imports${cyc.length ? ':' : ''}`);
  for (const c of cyc) console.log(`  ${c.join(' <-> ')}`);
}
