import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra } from '../fixtures.js';

const sizes = ['--train-size', '600', '--val-size', '128', '--test-size', '128'];

describe('many tasks: grouping and the grouped pipeline from the command line', () => {
  const run = mkdtempSync(path.join(tmpdir(), 'extra-group-'));

  it('groups 12 attribute tasks into 3 groups with roles, then runs train → curve → profile → query per group', () => {
    let r = extra(['group', '--run', run, ...sizes, '--warmup-epochs', '1', '--batches', '3', '--batch-size', '64', '--json']);
    expect(r.code, r.err).toBe(0);
    const g = JSON.parse(readFileSync(path.join(run, 'grouping.json'), 'utf8'));
    expect(g.tasks.length).toBe(12);
    expect(g.k).toBe(3);
    expect(g.groups.members.flat().sort((a: number, b: number) => a - b)).toEqual([...Array(12).keys()]);
    expect(g.cosine.length).toBe(12);
    g.cosine.forEach((row: number[], i: number) => expect(row[i]).toBeCloseTo(1, 5));
    expect(g.roles.endpoints[0]).not.toBe(g.roles.endpoints[1]);
    expect([0, 1, 2]).toContain(g.roles.aligned);

    const e0 = g.groups.members.map((_: unknown, i: number) => (i === g.roles.endpoints[0] ? 0.8 : i === g.roles.endpoints[1] ? 0.2 : 0.5)).join(',');
    const e1 = g.groups.members.map((_: unknown, i: number) => (i === g.roles.endpoints[0] ? 0.2 : i === g.roles.endpoints[1] ? 0.8 : 0.5)).join(',');
    r = extra(['train', '--run', run, '--pref', e0, '--pref', e1, '--epochs', '1', '--batch-size', '64']);
    expect(r.code, r.err).toBe(0);
    r = extra(['train', '--run', run, '--pref', '0.5,0.5']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/preference over 3 groups has 2 entries/);

    expect(extra(['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '64', '--eval-points', '0']).code).toBe(0);
    const curve = JSON.parse(readFileSync(path.join(run, 'curve', 'curve.json'), 'utf8'));
    expect(curve.orientation.aligned).toBe(g.roles.aligned);
    expect(curve.fit.beta).toBe(0.5);
    expect(extra(['curve', 'eval', '--run', run, '--points', '5']).code).toBe(0);
    const prof = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    expect(prof.objectives.names).toEqual(['g0', 'g1', 'g2']);
    expect(prof.hypervolume.testLoss.ref).toEqual([2, 2, 2]);
    // an objective's loss is the mean of its member tasks' losses
    const m0 = g.groups.members[0] as number[];
    const mean = m0.reduce((s, k) => s + prof.points[2].test[k].loss, 0) / m0.length;
    expect(prof.objectivePoints[2].test[0].loss).toBeCloseTo(mean, 12);

    // the baseline: the same endpoints, trained and profiled on the 12 tasks instead of the groups
    expect(extra(['curve', 'fit', '--run', run, '--ungrouped', '--curve', 'flat', '--epochs', '1', '--batch-size', '64', '--eval-points', '0']).code).toBe(0);
    const flat = JSON.parse(readFileSync(path.join(run, 'flat', 'curve.json'), 'utf8'));
    expect(flat.endpoints).toEqual(curve.endpoints);
    expect(flat.fit.ungrouped).toBe(true);
    expect(flat.orientation.aligned).toBeNull();
    expect(flat.fit.beta).toBe(0);
    expect(extra(['curve', 'eval', '--run', run, '--curve', 'flat', '--points', '3']).code).toBe(0);
    const flatProf = JSON.parse(readFileSync(path.join(run, 'flat', 'profile.json'), 'utf8'));
    expect(flatProf.objectives.names).toEqual(prof.taskNames);

    r = extra(['query', '--run', run, '--pref', '0.2,0.3,0.5', '--no-refine', '--json']);
    expect(r.code, r.err).toBe(0);
    const q = JSON.parse(r.out);
    expect(Object.keys(q.groups)).toEqual(['g0', 'g1', 'g2']);
    expect(Object.keys(q.predicted).length).toBe(12);

    // beyond the paper: a surface over the three groups
    r = extra(['surface', 'fit', '--run', run, '--epochs', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/a surface needs 3/);
    const corner = g.groups.members.map((_: unknown, i: number) => (i === g.roles.aligned ? 0.8 : 0.1)).join(',');
    expect(extra(['train', '--run', run, '--pref', corner, '--epochs', '1', '--batch-size', '64']).code).toBe(0);
    r = extra(['surface', 'fit', '--run', run, '--epochs', '1', '--batch-size', '64']);
    expect(r.code, r.err).toBe(0);
    r = extra(['surface', 'eval', '--run', run, '--resolution', '3', '--json']);
    expect(r.code, r.err).toBe(0);
    const sp = JSON.parse(readFileSync(path.join(run, 'surface', 'profile.json'), 'utf8'));
    expect(sp.points.length).toBe(10);
    expect(sp.hypervolume.testLoss.ref).toEqual([2, 2, 2]);
    r = extra(['query', '--run', run, '--surface', '--pref', '0.6,0.2,0.2', '--json']);
    expect(r.code, r.err).toBe(0);
    const sq = JSON.parse(r.out);
    expect(sq.bary.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Object.keys(sq.groups)).toEqual(['g0', 'g1', 'g2']);
    r = extra(['query', '--run', run, '--surface', '--pref', '0.5,0.5']);
    expect(r.code).toBe(2);
    // the report shows the three-group front
    r = extra(['report', '--run', run, '--no-png', '--json']);
    expect(r.code, r.err).toBe(0);
    const html = readFileSync(JSON.parse(r.out).html, 'utf8');
    expect(html).toContain('fig-surface-front');
    expect(html).toContain('scatter3d');
  });

  it('k larger than the number of tasks is exit 2 with one line', () => {
    const r = extra(['group', '--run', mkdtempSync(path.join(tmpdir(), 'extra-group-k-')), ...sizes, '--k', '20']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n').filter((l) => !l.startsWith('['))).toEqual(['extra group: --k 20 is larger than the number of tasks (12)']);
  });
});
