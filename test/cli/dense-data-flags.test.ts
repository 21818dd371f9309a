import { describe, it, expect } from 'vitest';
import { parseTrainArgs, trainHelp } from '../../src/cli/train.js';
import { datasetRecipeSchema } from '../../src/run/schema.js';
import { datasetRecipeOf } from '../../src/data/types.js';
import { optionalRecipe } from '../../src/app/index.js';

describe('the dense data flags reach the recipe that run.json keeps', () => {
  it("'extra train --help' lists the dense data sets and the flag", () => {
    for (const name of ['dense-digits', 'nyuv2', 'cityscapes', 'cityscapes-19']) expect(trainHelp).toContain(name);
    expect(trainHelp).toContain('--ignore-label');
  });

  it('--dataset nyuv2 --data-dir --resolution --val-fraction --ignore-label', () => {
    const r = parseTrainArgs(['--run', 'r', '--pref', '1,1,1', '--dataset', 'nyuv2', '--data-dir', 'nyu', '--resolution', '72', '--val-fraction', '0.2', '--ignore-label', '255']);
    if (r === 'help') throw new Error('help');
    expect(r.dataset).toMatchObject({ name: 'nyuv2', dataDir: 'nyu', resolution: 72, valFraction: 0.2, ignoreLabel: 255 });
    // what train writes (optionalRecipe) and what a reopened run loads with (datasetRecipeOf) keep it
    const written = { name: 'nyuv2', seed: 0, dataDir: '/abs/nyu', ...optionalRecipe(r.dataset!) };
    expect(written).toMatchObject({ resolution: 72, valFraction: 0.2, ignoreLabel: 255 });
    expect(datasetRecipeSchema.parse(written)).toEqual(written);
    expect(datasetRecipeOf(datasetRecipeSchema.parse(written))).toEqual(written);
  });

  it('refuses a bad --ignore-label, and a recipe whose ignore label is not an integer', () => {
    expect(() => parseTrainArgs(['--run', 'r', '--pref', '1,1', '--ignore-label', '2.5'])).toThrow(/--ignore-label must be an integer/);
    expect(() => parseTrainArgs(['--run', 'r', '--pref', '1,1', '--ignore-label', '-2'])).toThrow(/--ignore-label/);
    expect(datasetRecipeSchema.safeParse({ name: 'nyuv2', seed: 0, ignoreLabel: 0.5 }).success).toBe(false);
    expect(datasetRecipeSchema.safeParse({ name: 'nyuv2', seed: 0, resolution: 288 }).success).toBe(true);
  });
});
