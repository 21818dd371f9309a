import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Every relative import of every source file, as 'floor/file' → 'floor' of the target. */
const SRC = path.resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function floorOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? '(root)' : rel[0];
}

const edges = sourceFiles(SRC).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => path.resolve(path.dirname(file), m[1]));
  return targets.map((t) => ({ from: path.relative(SRC, file), to: path.relative(SRC, t), fromFloor: floorOf(file), toFloor: floorOf(t) }));
});

/**
 * The floors, lowest first (DEVELOPERS.md, "Layout"): a file may import its own folder and any folder
 * on a lower floor, never one on its own floor or above. `errors` and `index` are the root files.
 */
const floors: string[][] = [
  ['errors'],
  ['util', 'nurbs', 'pareto', 'backend'],
  ['io', 'objectives', 'tasks'],
  ['data', 'models'],
  ['parallel'],
  ['train'],
  ['run'],
  ['curves', 'hypernet', 'landscape'],
  ['grouping', 'surfaces', 'pamal'],
  ['app'],
  ['bench', 'report'],
  ['queue', 'server'],
  ['cli'],
  ['index'],
];
const folderOf = (f: string) => (f === '(root)' ? '' : f);
function levelOf(floor: string, file: string): number {
  const name = floor === '(root)' ? path.basename(file).replace(/\.(ts|js)$/, '') : folderOf(floor);
  const i = floors.findIndex((fl) => fl.includes(name));
  if (i < 0) throw new Error(`${file}: folder '${name}' is on no floor of the architecture test`);
  return i;
}

type Edge = { from: string; to: string; fromFloor: string; toFloor: string };

/** Arrows that do not point down: across folders, to the same floor or above. */
export function upwardArrows(list: Edge[]): string[] {
  return list.filter((e) => e.fromFloor !== e.toFloor && levelOf(e.toFloor, e.to) >= levelOf(e.fromFloor, e.from) && !(e.fromFloor === '(root)' && e.toFloor === '(root)' && path.basename(e.to).startsWith('errors'))).map((e) => `${e.from} → ${e.to}`);
}

/** Sets of files that import each other in a circle (Tarjan's strongly connected components). */
export function importCircles(list: Edge[]): string[][] {
  const norm = (f: string) => f.replace(/\.(ts|js)$/, '');
  const g = new Map<string, Set<string>>();
  for (const e of list) {
    if (!g.has(norm(e.from))) g.set(norm(e.from), new Set());
    if (!g.has(norm(e.to))) g.set(norm(e.to), new Set());
    g.get(norm(e.from))!.add(norm(e.to));
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('import graph', () => {
  it('finds the imports it checks', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges.some((e) => e.fromFloor === 'cli' && e.toFloor === 'app')).toBe(true);
  });

  it('every arrow points down the floors', () => {
    expect(upwardArrows(edges)).toEqual([]);
  });

  it('no files import each other in a circle', () => {
    expect(importCircles(edges)).toEqual([]);
  });

  it('the checks fail on a deliberate violation (an arrow up, a circle)', () => {
    const up: Edge = { from: 'parallel/pool.ts', to: 'curves/fit.ts', fromFloor: 'parallel', toFloor: 'curves' };
    const side: Edge = { from: 'curves/fit.ts', to: 'hypernet/fit.ts', fromFloor: 'curves', toFloor: 'hypernet' };
    expect(upwardArrows([...edges, up, side])).toEqual(['parallel/pool.ts → curves/fit.ts', 'curves/fit.ts → hypernet/fit.ts']);
    const back: Edge = { from: 'util/fs.ts', to: 'models/types.ts', fromFloor: 'util', toFloor: 'models' };
    expect(importCircles([...edges, back, { from: 'models/types.ts', to: 'util/fs.ts', fromFloor: 'models', toFloor: 'util' }])).toEqual([['models/types', 'util/fs']]);
  });

  it('the parallel floor is a mechanism: it names none of its clients', () => {
    const bad = edges.filter((e) => e.fromFloor === 'parallel' && ['train', 'curves', 'hypernet', 'landscape', 'run', 'app'].includes(e.toFloor));
    expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });
});
