/**
 * Server-rendered SVG charts for the admin overview: no script, no inline style (the CSP allows
 * neither), colours as SVG presentation attributes. Each chart is an image with a <title> and a
 * <desc> that states what it shows in words, and its numbers follow as a table, so a screen reader
 * or a text browser gets the same facts as the eye.
 */
import { html, type SafeHtml } from '../interaction/html.ts';

/** One bar of a chart over time: the bucket's start (unix seconds) and its count. */
export interface TimeBucket {
  start: number;
  count: number;
}

/** One bar of a chart by category. */
export interface CategoryBar {
  label: string;
  count: number;
}

/** The drawing's width in SVG units; the stylesheet caps its width on screen, so text stays readable. */
const WIDTH = 480;
const BAR = '#2563eb';
const AXIS = '#57534e';
const GRID = '#e7e5e4';
/** A chart by category shows the largest this many; the table lists them all. */
export const MAX_BARS = 10;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `2026-12-01 09:00 UTC` for hourly buckets, `2026-12-01` for daily ones. */
export function bucketLabel(start: number, bucketSeconds: number): string {
  const iso = new Date(start * 1000).toISOString();
  return bucketSeconds % 86_400 === 0 ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The smallest of 1, 2, 5 × 10^n at least `max`, so the axis reads in round numbers. */
export function niceMax(max: number): number {
  if (max <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/**
 * Bars over time with a sentence (total, busiest bucket) and the data in a table under a
 * disclosure, since thirty rows would otherwise push the next chart off the screen.
 *
 * @example timeChart({ id: 'tokens', title: 'Tokens issued', noun: 'token', bucketSeconds: 3600, buckets })
 */
export function timeChart(input: {
  id: string;
  title: string;
  /** Singular noun for the sentence: "12 tokens". */
  noun: string;
  bucketSeconds: number;
  buckets: readonly TimeBucket[];
  /** A sentence added to the summary (e.g. how the total splits). */
  detail?: string | undefined;
}): SafeHtml {
  const { buckets, bucketSeconds } = input;
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const peak = buckets.reduce<TimeBucket | undefined>(
    (best, b) => (b.count > (best?.count ?? 0) ? b : best),
    undefined,
  );
  const summary = [
    total === 0
      ? `No ${input.noun}s in this period.`
      : `${plural(total, input.noun)} in this period; the most, ${peak?.count}, in the ${bucketSeconds % 86_400 === 0 ? 'day' : 'period'} from ${bucketLabel(peak?.start ?? 0, bucketSeconds)}.`,
    input.detail,
  ]
    .filter(Boolean)
    .join(' ');

  const height = 180;
  const left = 44;
  const bottom = 22;
  const plotWidth = WIDTH - left - 8;
  const plotHeight = height - bottom - 10;
  const top = niceMax(Math.max(0, ...buckets.map((b) => b.count)));
  const slot = plotWidth / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.8);
  const y = (count: number) => 10 + plotHeight - (count / top) * plotHeight;
  const bars = buckets.map((b, i) =>
    b.count > 0
      ? html`<rect x="${(left + i * slot + (slot - barWidth) / 2).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(10 + plotHeight - y(b.count)).toFixed(1)}" fill="${BAR}"><title>${bucketLabel(b.start, bucketSeconds)}: ${b.count}</title></rect>`
      : '',
  );
  const first = buckets[0];
  const last = buckets.at(-1);
  const xLabels =
    first && last
      ? html`<text x="${left}" y="${height - 6}" font-size="13" fill="${AXIS}">${bucketLabel(first.start, bucketSeconds)}</text><text x="${WIDTH - 8}" y="${height - 6}" font-size="13" fill="${AXIS}" text-anchor="end">${bucketLabel(last.start, bucketSeconds)}</text>`
      : '';
  const rows = buckets.map(
    (b) => html`<tr><td>${bucketLabel(b.start, bucketSeconds)}</td><td class="num">${b.count}</td></tr>`,
  );
  return html`<section class="chart" aria-labelledby="${input.id}-heading">
<h2 id="${input.id}-heading">${input.title}</h2>
<svg role="img" aria-labelledby="${input.id}-title ${input.id}-desc" viewBox="0 0 ${WIDTH} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
<title id="${input.id}-title">${input.title}</title>
<desc id="${input.id}-desc">${summary}</desc>
<line x1="${left}" y1="10" x2="${WIDTH - 8}" y2="10" stroke="${GRID}"/>
<line x1="${left}" y1="${10 + plotHeight}" x2="${WIDTH - 8}" y2="${10 + plotHeight}" stroke="${AXIS}"/>
<text x="${left - 6}" y="14" font-size="13" fill="${AXIS}" text-anchor="end">${top}</text>
<text x="${left - 6}" y="${14 + plotHeight}" font-size="13" fill="${AXIS}" text-anchor="end">0</text>
${bars}${xLabels}
</svg>
<p class="chart-summary" id="${input.id}-summary">${summary}</p>
<details><summary>${input.title}: the numbers</summary>
<div class="table-wrap"><table><thead><tr><th scope="col">From</th><th scope="col">Count</th></tr></thead><tbody>${rows}</tbody></table></div>
</details>
</section>`;
}

/**
 * Horizontal bars by category, largest first (at most `MAX_BARS`), labels above their bars so
 * long tool names fit on a phone; every category is in the table beside it.
 *
 * @example barChart({ id: 'per-server', title: 'Calls per server', noun: 'call', bars })
 */
export function barChart(input: {
  id: string;
  title: string;
  noun: string;
  bars: readonly CategoryBar[];
  /** The table's first column heading. */
  category?: string | undefined;
}): SafeHtml {
  const sorted = [...input.bars].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  const shown = sorted.slice(0, MAX_BARS);
  const total = sorted.reduce((sum, b) => sum + b.count, 0);
  const summary =
    sorted.length === 0
      ? `No ${input.noun}s in this period.`
      : `${plural(total, input.noun)} in this period: ${shown
          .slice(0, 3)
          .map((b) => `${b.label} ${b.count}`)
          .join(', ')}${sorted.length > 3 ? `, and ${plural(sorted.length - 3, 'other')}` : ''}.`;
  const rowHeight = 36;
  const height = Math.max(1, shown.length) * rowHeight + 4;
  const top = Math.max(1, ...shown.map((b) => b.count));
  const barSpace = WIDTH - 60;
  const bars = shown.map((b, i) => {
    const width = Math.max(2, (b.count / top) * barSpace);
    const y0 = i * rowHeight;
    return html`<text x="0" y="${y0 + 13}" font-size="14" fill="${AXIS}">${b.label}</text><rect x="0" y="${y0 + 17}" width="${width.toFixed(1)}" height="14" fill="${BAR}"/><text x="${(width + 6).toFixed(1)}" y="${y0 + 29}" font-size="13" fill="${AXIS}">${b.count}</text>`;
  });
  const rows = sorted.map((b) => html`<tr><td>${b.label}</td><td class="num">${b.count}</td></tr>`);
  return html`<section class="chart" aria-labelledby="${input.id}-heading">
<h2 id="${input.id}-heading">${input.title}</h2>
${
  sorted.length === 0
    ? ''
    : html`<svg role="img" aria-labelledby="${input.id}-title ${input.id}-desc" viewBox="0 0 ${WIDTH} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
<title id="${input.id}-title">${input.title}</title>
<desc id="${input.id}-desc">${summary}</desc>
${bars}
</svg>`
}
<p class="chart-summary" id="${input.id}-summary">${summary}</p>
${
  sorted.length === 0
    ? ''
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">${input.category ?? 'Name'}</th><th scope="col">Count</th></tr></thead><tbody>${rows}</tbody></table></div>`
}
</section>`;
}
