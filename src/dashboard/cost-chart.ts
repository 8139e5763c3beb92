import { escapeHtml } from './graph-svg.js';

/** One run in the chart: when it started and what it spent. */
export interface SpendPoint {
  id: string;
  startedAt: number;
  costUsd: number;
  tokens: number;
}

/** Runs drawn at most: the newest ones, so the bars stay wide enough to read. */
export const chartedRuns = 30;

const size = { width: 640, plot: 110, left: 64, right: 16, top: 28, gap: 44 };

/**
 * Cost and tokens of a crew's recorded runs over their start time, as two bar charts in one
 * inline SVG (no script): one bar per run in each, oldest left, each bar titled with its run, and
 * the totals over the charted runs written above. Run ids come from the store: escaped.
 */
export function spendChartSvg(points: readonly SpendPoint[], name: string): string {
  const runs = [...points].sort((a, b) => a.startedAt - b.startedAt).slice(-chartedRuns);
  if (runs.length === 0) return '';
  const totalCost = runs.reduce((sum, run) => sum + run.costUsd, 0);
  const totalTokens = runs.reduce((sum, run) => sum + run.tokens, 0);
  const height = size.top + 2 * size.plot + size.gap + 40;
  const plotWidth = size.width - size.left - size.right;
  const slot = plotWidth / runs.length;
  const barWidth = Math.max(2, Math.min(40, slot * 0.7));
  const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

  const panel = (top: number, metric: 'cost' | 'tokens') => {
    const value = (run: SpendPoint) => (metric === 'cost' ? run.costUsd : run.tokens);
    const show = (v: number) => (metric === 'cost' ? `$${v.toFixed(4)}` : `${Math.round(v)}`);
    const max = Math.max(...runs.map(value));
    const bottom = top + size.plot;
    const bars = runs.map((run, index) => {
      const h = max > 0 ? (value(run) / max) * size.plot : 0;
      const x = size.left + index * slot + (slot - barWidth) / 2;
      return `<rect class="bar ${metric}" data-run="${escapeHtml(run.id)}" x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}"><title>${escapeHtml(run.id)} at ${time(run.startedAt)}: ${show(value(run))}</title></rect>`;
    });
    return `<text x="${size.left - 6}" y="${top + 4}" class="tick">${show(max)}</text><text x="${size.left - 6}" y="${bottom}" class="tick">${show(0)}</text>
<text x="${size.left}" y="${top - 8}" class="axis-title">${metric === 'cost' ? 'cost (USD) per run' : 'tokens (input + output) per run'}</text>
<line x1="${size.left}" y1="${bottom}" x2="${size.left + plotWidth}" y2="${bottom}" class="axis"/><line x1="${size.left}" y1="${top}" x2="${size.left}" y2="${bottom}" class="axis"/>
${bars.join('')}`;
  };
  const second = size.top + size.plot + size.gap;
  const axisY = second + size.plot + 16;
  return `<p class="spend-totals">${runs.length} run${runs.length === 1 ? '' : 's'} of <strong>${escapeHtml(name)}</strong>: total <span class="total-cost">$${totalCost.toFixed(4)}</span>, <span class="total-tokens">${totalTokens}</span> tokens</p>
<div class="graph"><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="cost and tokens of ${escapeHtml(name)} over time" width="${size.width}" height="${height}" viewBox="0 0 ${size.width} ${height}">
<style>.bar.cost{fill:#6f8fd8}.bar.tokens{fill:#7cc49a}.axis{stroke:#7a8594}.tick{font:11px sans-serif;fill:#4a5565;text-anchor:end}.axis-title{font:600 12px sans-serif;fill:#1d2530}.time{font:11px sans-serif;fill:#4a5565}</style>
${panel(size.top, 'cost')}
${panel(second, 'tokens')}
<text x="${size.left}" y="${axisY}" class="time">${time(runs[0]!.startedAt)}</text><text x="${size.left + plotWidth}" y="${axisY}" class="time" text-anchor="end">${time(runs.at(-1)!.startedAt)}</text>
<text x="${size.left + plotWidth / 2}" y="${axisY + 16}" class="time" text-anchor="middle">run start time (UTC)</text>
</svg></div>`;
}
