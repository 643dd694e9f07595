/**
 * Pure helpers for the benchmark report: medians, ratios, targets and the printed table.
 */
import type { Scenario } from './protocol.ts';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One contender's measurements in one scenario, one entry per round. */
export interface Series {
  contender: string;
  scenario: Scenario;
  rps: number[];
  p50: number[];
  p99: number[];
  /** Server CPU in cores (1 = one core fully busy), when the platform tells. */
  serverCpu: (number | undefined)[];
  loadCpu: number[];
  /** PostgreSQL's CPU in cores (every `postgres` process on the machine), for contenders on it. */
  databaseCpu?: (number | undefined)[];
}

export interface Summary {
  contender: string;
  scenario: Scenario;
  rps: number;
  p50: number;
  p99: number;
  serverCpu: number | undefined;
  /** Server CPU time per request, microseconds: less sensitive than throughput to other work on the machine. */
  cpuPerRequest: number | undefined;
  loadCpu: number;
}

export function summarise(series: Series): Summary {
  const cpu = series.serverCpu.filter((c): c is number => c !== undefined);
  return {
    contender: series.contender,
    scenario: series.scenario,
    rps: median(series.rps),
    p50: median(series.p50),
    p99: median(series.p99),
    serverCpu: cpu.length ? median(cpu) : undefined,
    cpuPerRequest: cpu.length
      ? median(series.rps.map((rps, i) => (1e6 * (series.serverCpu[i] ?? Number.NaN)) / rps))
      : undefined,
    loadCpu: median(series.loadCpu),
  };
}

/** A target: `subject` must reach at least `factor` times `baseline`'s throughput in `scenario`. */
export interface Target {
  scenario: Scenario;
  subject: string;
  baseline: string;
  factor: number;
}

export interface TargetResult extends Target {
  /** Ratio of the medians. */
  ratio: number;
  /** Ratio within each round (paired measurements taken seconds apart). */
  roundRatios: number[];
  pass: boolean;
}

export function checkTarget(target: Target, all: readonly Series[]): TargetResult {
  const find = (name: string) => {
    const s = all.find((x) => x.scenario === target.scenario && x.contender === name);
    if (!s) throw new Error(`no measurements of ${name} in ${target.scenario}`);
    return s;
  };
  const subject = find(target.subject);
  const baseline = find(target.baseline);
  const ratio = median(subject.rps) / median(baseline.rps);
  return {
    ...target,
    ratio,
    roundRatios: subject.rps.map((r, i) => r / (baseline.rps[i] as number)),
    pass: ratio >= target.factor,
  };
}

const fixed = (n: number | undefined, digits: number) =>
  n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);

const columns = (ratioTo: readonly string[]) => [
  'contender',
  'req/s',
  'p50 ms',
  'p99 ms',
  'server CPU',
  'CPU µs/req',
  ...ratioTo.map((name) => `× ${name}`),
];

function cells(s: Summary, all: readonly Summary[], ratioTo: readonly string[]): string[] {
  return [
    s.contender,
    fixed(s.rps, 0),
    fixed(s.p50, 2),
    fixed(s.p99, 2),
    s.serverCpu === undefined ? '-' : `${Math.round(s.serverCpu * 100)}%`,
    fixed(s.cpuPerRequest, 0),
    ...ratioTo.map((name) => {
      const other = all.find((o) => o.contender === name);
      return other ? (s.rps / other.rps).toFixed(2) : '-';
    }),
  ];
}

/** The table for one scenario: throughput, latency, CPU and the ratios to the other contenders. */
export function formatTable(summaries: readonly Summary[], ratioTo: readonly string[]): string {
  const header = columns(ratioTo);
  const rows = summaries.map((s) => cells(s, summaries, ratioTo));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** The same table as Markdown, for the README. */
export function formatMarkdown(summaries: readonly Summary[], ratioTo: readonly string[]): string {
  const header = columns(ratioTo);
  const rows = summaries.map((s) => cells(s, summaries, ratioTo));
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
