import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import { appendLine, writeFileAtomic } from '../util/fs.js';
import { epochBatches, batchesPerEpoch, disposeBatch, type Batch, type LabelledSplit } from './batches.js';
import { optimizerInit, optimizerStep, disposeOptimizer, type OptimizerConfig } from './optimizer/index.js';
import { learningRateAt, type ScheduleConfig } from './schedule.js';
import { saveTrainingCheckpoint, loadTrainingCheckpoint, checkpointState } from './checkpoint.js';
import { makeProgress } from './progress.js';
import { fitText, type TaskMetrics } from './metrics.js';
import { ExtraInputError, FileFormatError } from '../errors.js';

export interface LoopConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  seed: number;
  /** training checkpoint (written atomically after every epoch) */
  checkpointFile: string;
  /** JSONL log, one line per epoch */
  logFile: string;
  resume: boolean;
  label: string;
  progress: boolean;
  /** stop after this many optimizer steps in all, the last epoch partial (`query --tune`); absent: every epoch whole */
  maxSteps?: number;
  /**
   * stop after the first step at which this many seconds have passed since the loop began, the last
   * epoch partial (bench front's equal-wall-time rows); absent: no time limit
   */
  maxSeconds?: number;
}

export interface StepResult {
  grads: tf.Tensor[];
  /** per-task training losses of this batch (for logging) */
  losses: number[];
}

/**
 * What a loop trains: a list of named tensors, a step that returns their gradients on a batch,
 * an evaluation run after every epoch, and a small JSON-able state carried across epochs
 * (e.g. the running ideal point of Chebyshev scalarization).
 */
export interface Trainable<S> {
  names: string[];
  shapes: number[][];
  init(): tf.Tensor[];
  initialState(): S;
  step(tensors: readonly tf.Tensor[], batch: Batch, state: S, ctx: { epoch: number; step: number }): StepResult | Promise<StepResult>;
  /** after the optimizer's update, on the same batch (e.g. FAMO learns from the losses it moved) */
  afterUpdate?(tensors: readonly tf.Tensor[], batch: Batch, state: S, before: number[], ctx: { epoch: number; step: number }): void;
  evaluate(tensors: readonly tf.Tensor[]): Record<string, unknown>;
  /** what the evaluation after each epoch does, for its progress line (e.g. the statistics it recomputes) */
  evaluationNote?: string;
  /** per-tensor learning-rate multipliers (default 1 each) */
  lrScale?: readonly number[];
}

export interface EpochRecord {
  epoch: number;
  lr: number;
  trainLoss: number[];
  seconds: number;
  samplesPerSecond: number;
  [key: string]: unknown;
}

export interface LoopResult<S> {
  tensors: tf.Tensor[];
  history: EpochRecord[];
  state: S;
  resumedFromEpoch: number;
}

interface CheckpointState<S> {
  epochsDone: number;
  history: EpochRecord[];
  user: S;
  /** the settings that shape the trajectory; a resume must not change them silently */
  recipe?: Record<string, unknown>;
}

/** The loop settings a resumed run must share with its checkpoint (epochs may grow). */
function recipeOf(cfg: Pick<LoopConfig, 'lr' | 'batchSize' | 'seed' | 'optimizer' | 'schedule'>): Record<string, unknown> {
  return { lr: cfg.lr, batchSize: cfg.batchSize, seed: cfg.seed, optimizer: cfg.optimizer, schedule: cfg.schedule };
}

const flagOf: Record<string, string> = { lr: '--lr', batchSize: '--batch-size', seed: '--seed', optimizer: '--optimizer', schedule: '--schedule' };

function recipeDifference(cfg: Pick<LoopConfig, 'label' | 'lr' | 'batchSize' | 'seed' | 'optimizer' | 'schedule'>, recipe: unknown): string | null {
  if (!recipe || typeof recipe !== 'object') return null;
  const now = recipeOf(cfg);
  const was = recipe as Record<string, unknown>;
  const diff = Object.keys(now).filter((k) => k in was && JSON.stringify(was[k]) !== JSON.stringify(now[k]));
  if (!diff.length) return null;
  return `${cfg.label}: --resume with settings that differ from the checkpoint's (${diff.map((k) => `${flagOf[k] ?? k} ${JSON.stringify(was[k])} → ${JSON.stringify(now[k])}`).join(', ')}); pass the original values, or start again without --resume`;
}

/**
 * The check `--resume` makes, made before any work: the checkpoint it would continue reads as one and
 * was made with the same settings (a refusal never follows a status or progress line).
 */
export async function assertResumable(cfg: Pick<LoopConfig, 'checkpointFile' | 'label' | 'lr' | 'batchSize' | 'seed' | 'optimizer' | 'schedule'>): Promise<void> {
  const differs = recipeDifference(cfg, (await checkpointState(cfg.checkpointFile))?.recipe);
  if (differs) throw new ExtraInputError(differs);
}

export async function runTrainingLoop<S>(
  cfg: LoopConfig,
  split: LabelledSplit,
  inputShape: number[],
  trainable: Trainable<S>,
): Promise<LoopResult<S>> {
  const progress = makeProgress(cfg.label, cfg.progress);
  let tensors: tf.Tensor[];
  let opt;
  let state: CheckpointState<S>;
  const ck = cfg.resume ? await loadTrainingCheckpoint<CheckpointState<S>>(cfg.checkpointFile, trainable.names, trainable.shapes) : null;
  if (ck) {
    const st = ck.state as unknown as { epochsDone?: unknown; history?: unknown; recipe?: unknown };
    if (!Number.isSafeInteger(st.epochsDone) || (st.epochsDone as number) < 0 || !Array.isArray(st.history)) {
      throw new FileFormatError(`${cfg.checkpointFile}: its training state has no valid epochsDone/history`);
    }
    const differs = recipeDifference(cfg, st.recipe);
    if (differs) {
      ck.tensors.forEach((t) => t.dispose());
      throw new ExtraInputError(differs);
    }
    tensors = ck.tensors;
    opt = ck.optimizer;
    state = ck.state;
    await truncateLog(cfg.logFile, state.epochsDone);
    progress.done(`resuming after epoch ${state.epochsDone}/${cfg.epochs}`);
  } else {
    tensors = trainable.init();
    opt = optimizerInit(cfg.optimizer, tensors);
    state = { epochsDone: 0, history: [], user: trainable.initialState(), recipe: recipeOf(cfg) };
    // a fresh start: the previous training's log and checkpoint go, so a kill before this training's
    // first checkpoint can never be resumed from the previous training's state
    await fsp.rm(cfg.logFile, { force: true });
    await fsp.rm(cfg.checkpointFile, { force: true });
  }
  const resumedFromEpoch = state.epochsDone;
  const steps = batchesPerEpoch(split.n, cfg.batchSize);
  let taken = 0;
  const began = performance.now();
  const enough = () => (cfg.maxSteps !== undefined && taken >= cfg.maxSteps) || (cfg.maxSeconds !== undefined && (performance.now() - began) / 1000 >= cfg.maxSeconds);
  for (let epoch = state.epochsDone; epoch < cfg.epochs && !enough(); epoch++) {
    const t0 = performance.now();
    const lossSums: number[] = [];
    let seen = 0;
    let s = 0;
    let lr = cfg.lr;
    for (const batch of epochBatches(split, inputShape, cfg.batchSize, cfg.seed, epoch)) {
      lr = learningRateAt(cfg.lr, cfg.schedule, epoch, s, steps, cfg.epochs);
      const r = await trainable.step(tensors, batch, state.user, { epoch, step: s });
      if (!r.losses.every(Number.isFinite) || !allFinite(r.grads)) {
        r.grads.forEach((g) => g.dispose());
        disposeBatch(batch);
        progress.done('stopped');
        const kept = state.epochsDone > 0 ? `the checkpoint of epoch ${state.epochsDone} is kept (--resume continues from it)` : 'no epoch was completed, nothing was saved';
        throw new ExtraInputError(
          `${cfg.label}: training diverged at epoch ${epoch + 1}, step ${s + 1} (loss ${r.losses.map((l) => String(l)).join(', ')}${r.losses.every(Number.isFinite) ? ', non-finite gradient' : ''}); ${kept}. Lower --lr.`,
        );
      }
      const next = optimizerStep(cfg.optimizer, opt, tensors, r.grads, lr, trainable.lrScale);
      r.grads.forEach((g) => g.dispose());
      tensors.forEach((t) => t.dispose());
      tensors = next.params;
      opt = next.state;
      trainable.afterUpdate?.(tensors, batch, state.user, r.losses, { epoch, step: s });
      r.losses.forEach((l, k) => (lossSums[k] = (lossSums[k] ?? 0) + l * batch.size));
      seen += batch.size;
      disposeBatch(batch);
      s++;
      taken++;
      const el = (performance.now() - t0) / 1000;
      progress.update(
        `epoch ${epoch + 1}/${cfg.epochs} step ${s}/${steps} loss ${lossSums.map((v) => (v / seen).toFixed(4)).join(' ')} ${(seen / el).toFixed(0)} samples/s`,
      );
      if (enough()) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    const e0 = performance.now();
    const evalRecord = trainable.evaluate(tensors);
    const evalSeconds = (performance.now() - e0) / 1000;
    const rec: EpochRecord = {
      epoch: epoch + 1,
      lr,
      trainLoss: lossSums.map((v) => v / seen),
      seconds,
      samplesPerSecond: seen / seconds,
      ...evalRecord,
    };
    state.history.push(rec);
    state.epochsDone = epoch + 1;
    // log first, checkpoint second: on resume, log lines past the checkpoint are dropped
    await appendLine(cfg.logFile, JSON.stringify(rec));
    await saveTrainingCheckpoint(cfg.checkpointFile, trainable.names, tensors, opt, state);
    // the epoch's time is its steps; the evaluation after it is timed on its own, saying what it does
    const evaluation = `evaluated in ${evalSeconds.toFixed(1)} s${trainable.evaluationNote ? ` (${trainable.evaluationNote})` : ''}`;
    progress.done(`epoch ${epoch + 1}/${cfg.epochs} done in ${seconds.toFixed(1)} s, ${summarize(rec)}; ${evaluation}`);
  }
  disposeOptimizer(opt);
  return { tensors, history: state.history, state: state.user, resumedFromEpoch };
}

/** Whether every gradient entry is finite (one reduction and one read-back for the whole list). */
function allFinite(ts: readonly tf.Tensor[]): boolean {
  if (ts.length === 0) return true;
  return tf.tidy(() => tf.all(tf.stack(ts.map((t) => tf.all(tf.isFinite(t))))).dataSync()[0] === 1);
}

function summarize(rec: EpochRecord): string {
  const parts = [`train loss ${rec.trainLoss.map((v) => v.toFixed(4)).join(' ')}`];
  const val = rec.val as Record<string, TaskMetrics> | undefined;
  if (val) parts.push(`val ${Object.entries(val).map(([k, m]) => `${k} ${m.loss.toFixed(4)}/${fitText(m, 1)}`).join(' ')}`);
  return parts.join(', ');
}

async function truncateLog(file: string, epochs: number): Promise<void> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return;
  }
  const keep = text
    .split('\n')
    .filter((l) => l.trim())
    .filter((l) => {
      try {
        return (JSON.parse(l) as { epoch: number }).epoch <= epochs;
      } catch {
        return false; // a torn last line from a kill
      }
    });
  await writeFileAtomic(file, keep.map((l) => l + '\n').join(''));
}
