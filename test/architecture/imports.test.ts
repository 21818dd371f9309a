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

// front ends: parse → call the application layer → print
const frontEnds = ['cli', 'server', 'bench', 'report'];
// the library floors below the application layer
const lower = ['nurbs', 'pareto', 'objectives', 'models', 'data', 'curves', 'surfaces', 'train', 'parallel', 'grouping', 'run', 'io', 'util', 'backend', 'hypernet'];

describe('import graph', () => {
  it('finds the imports it checks', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges.some((e) => e.fromFloor === 'cli' && e.toFloor === 'app')).toBe(true);
  });

  it('nothing outside src/cli imports from src/cli (the entry point excepted)', () => {
    const bad = edges.filter((e) => e.toFloor === 'cli' && e.fromFloor !== 'cli');
    expect(bad.map((e) => e.from)).toEqual([]);
  });

  it('the application layer imports no front end', () => {
    const bad = edges.filter((e) => e.fromFloor === 'app' && frontEnds.includes(e.toFloor));
    expect(bad.map((e) => `${e.from} → ${e.toFloor}`)).toEqual([]);
  });

  it('the library floors import neither the application layer nor a front end', () => {
    // of the root files only errors.ts is below everything; index.ts (the public API) is on top
    const bad = edges.filter((e) => lower.includes(e.fromFloor) && (e.toFloor === 'app' || frontEnds.includes(e.toFloor) || (e.toFloor === '(root)' && !e.to.startsWith('errors.'))));
    expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('server, bench and report reach the runs through the application layer, not around it', () => {
    const used = new Set(edges.filter((e) => e.fromFloor === 'server' || e.fromFloor === 'bench').map((e) => e.toFloor));
    expect(used.has('app')).toBe(true);
  });
});
