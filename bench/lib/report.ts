/**
 * What every benchmark reports: rows of `| measure | median | ratio | goal |`, kept as numbers in
 * test-output/bench.json (turned into docs/performance.md by scripts/performance-doc.ts).
 * Times are medians of runs taken in the same process, one after another; ratios compare measures
 * of the same run only.
 */
import * as os from 'node:os';

export type Unit = 'ms' | 'MB' | 'kB' | 'files' | 'count';

export interface Row {
  measure: string;
  /** The median (or the single value) in `unit`; null when it could not be measured. */
  median: number | null;
  unit: Unit;
  /** Every sample, in `unit`. */
  samples?: number[];
  /** This measure divided by others of the same benchmark run. */
  ratios?: Array<{ value: number; of: string }>;
  /** The goal as text (e.g. `< 20 ms`) and whether the median meets it. */
  goal?: { text: string; met: boolean };
  /** A short remark shown after the measure (files read, what was left out...). */
  note?: string;
}

export interface BenchResult {
  id: string;
  title: string;
  /** How it was measured, what it means (one sentence each). */
  notes: string[];
  rows: Row[];
  /** Findings: which part dominates, what to fix. */
  findings: string[];
  durationMs: number;
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryMB: number;
  node: string;
  platform: string;
  kernel: string;
  date: string;
}

export interface BenchFile {
  machine: MachineInfo;
  argv: string[];
  contexts: ContextInfo[];
  results: BenchResult[];
  /** About the whole run (e.g. a context made smaller for lack of disk). */
  notes: string[];
  totalMs: number;
}

export interface ContextInfo {
  files: number;
  dirs: number;
  bytes: number;
  small: number;
  medium: number;
  large: number;
  generationMs: number;
}

export function machineInfo(): MachineInfo {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryMB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    date: new Date().toISOString(),
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  if (s.length % 2 === 1) return s[mid] ?? NaN;
  return ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/** Milliseconds of one call. */
export async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export function timeSync<T>(fn: () => T): { ms: number; value: T } {
  const t = performance.now();
  const value = fn();
  return { ms: performance.now() - t, value };
}

/** A row from samples: the median, with the goal checked when given as `< N`. */
export function row(measure: string, samples: readonly number[], unit: Unit, extra: { goalBelow?: number; note?: string } = {}): Row {
  const m = samples.length === 0 ? null : median(samples);
  const r: Row = { measure, median: m, unit, samples: samples.map((s) => round(s)) };
  if (extra.goalBelow !== undefined) r.goal = { text: `< ${extra.goalBelow} ${unit}`, met: m !== null && m < extra.goalBelow };
  if (extra.note !== undefined) r.note = extra.note;
  return r;
}

/** Adds a / b (both medians of the same run) to a's ratios; `label` names b in the table. */
export function ratio(a: Row, b: Row | undefined, label?: string): void {
  if (b === undefined || a.median === null || b.median === null || b.median === 0) return;
  (a.ratios ??= []).push({ value: a.median / b.median, of: label ?? b.measure });
}

export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 4;
  return Number(x.toFixed(digits));
}

export function formatValue(v: number | null, unit: Unit): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  switch (unit) {
    case 'ms':
      return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : v >= 100 ? `${v.toFixed(0)} ms` : v >= 1 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;
    case 'MB':
      return `${v.toFixed(1)} MB`;
    case 'kB':
      return `${v.toFixed(1)} kB`;
    case 'files':
      return `${Math.round(v)} files`;
    case 'count':
      return String(Math.round(v));
  }
}

export function formatRatio(rs: Row['ratios']): string {
  if (rs === undefined) return '';
  return rs.map((r) => {
    const v = r.value;
    return `${v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3)}× ${r.of}`;
  }).join('; ');
}

/** A markdown table of the rows (also what the console shows). */
export function table(rows: readonly Row[]): string {
  const lines = ['| measure | median | ratio | goal |', '|---|---:|---|---|'];
  for (const r of rows) {
    const measure = r.note === undefined ? r.measure : `${r.measure} (${r.note})`;
    const goal = r.goal === undefined ? '' : `${r.goal.text} ${r.goal.met ? '✅ met' : '❌ not met'}`;
    lines.push(`| ${measure.replace(/\|/g, '\\|')} | ${formatValue(r.median, r.unit)} | ${formatRatio(r.ratios)} | ${goal} |`);
  }
  return lines.join('\n');
}

export function mb(bytes: number): number {
  return bytes / 1e6;
}
