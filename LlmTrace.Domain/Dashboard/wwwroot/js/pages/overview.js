import { api, query } from '../api.js';
import { h, fmt, table, meter, tile, bucketLabel, statsPage, SEVERITIES } from '../dom.js';
import { bars, lines } from '../charts.js';

const REFRESH_MS = 10_000;

/** Requests, errors, latency, TTFT, spend against budgets, findings, top models and agents, refreshed live. */
export async function render(main, ctx) {
  const updated = h('span', { class: 'muted' });
  const draw = await statsPage(main, ctx, 'Overview', () => content(ctx), {
    aside: updated,
    onDrawn: () => { updated.textContent = 'Live · updated ' + fmt.clock(new Date().toISOString()); },
  });
  const timer = setInterval(() => { if (!document.hidden) draw(); }, REFRESH_MS);
  return () => clearInterval(timer);
}

async function content(ctx) {
  const { from, to } = ctx.window();
  const stats = await api('/api/stats' + query({ tenantId: ctx.scope, from, to }));
  const t = stats.totals;
  const label = bucketLabel(stats.bucket);
  const points = stats.points;
  const tiles = h('div', { class: 'tiles' },
    tile('Requests', fmt.int(t.requests), `${fmt.int(t.streams)} streamed`),
    tile('Error rate', fmt.pct(t.errorRate), `${fmt.int(t.clientErrors)} 4xx · ${fmt.int(t.serverErrors)} 5xx`, t.errorRate > 0.05 ? 'warn' : ''),
    tile('Latency p50 / p95', `${fmt.ms(t.latencyP50Ms)} / ${fmt.ms(t.latencyP95Ms)}`, `p99 ${fmt.ms(t.latencyP99Ms)}`),
    tile('Time to first token p50', fmt.ms(t.ttftP50Ms), `p95 ${fmt.ms(t.ttftP95Ms)}`),
    tile('Cost', fmt.usd(t.costUsd), `${fmt.compact(t.promptTokens)} in · ${fmt.compact(t.completionTokens)} out tokens`),
    tile('Flagged calls', fmt.int(t.flaggedRequests), SEVERITIES.map((s, i) => `${t.findings[i]} ${s}`).filter(x => !x.startsWith('0 ')).join(' · ') || 'no findings',
      t.findings[3] + t.findings[4] > 0 ? 'warn' : ''));

  const charts = h('div', { class: 'grid2' },
    bars('Requests', points, [
      { name: 'answered', cls: 's-ok', value: p => p.requests - p.clientErrors - p.serverErrors },
      { name: '4xx', cls: 's-warn', value: p => p.clientErrors },
      { name: '5xx', cls: 's-bad', value: p => p.serverErrors },
    ], { label }),
    lines('Latency', points, [
      { name: 'p50', cls: 's-ok', value: p => p.latencyP50Ms },
      { name: 'p95', cls: 's-warn', value: p => p.latencyP95Ms },
      { name: 'TTFT p50', cls: 's-alt', value: p => p.ttftP50Ms },
    ], { label }),
    bars('Cost', points, [{ name: 'USD', cls: 's-alt', value: p => p.costUsd }], { label, format: fmt.usd }),
    bars('Findings by severity', points, SEVERITIES.map((s, i) => ({ name: s, cls: 'sev-' + s, value: p => p.findings[i] })), { label }));

  const budgets = await budgetSection(ctx, stats);
  const top = h('div', { class: 'grid2' },
    table('Top models', ['Model', 'Requests', 'Errors', 'Tokens', 'Cost'], stats.models.map(m => [m.name, fmt.int(m.requests), fmt.int(m.errors), fmt.compact(m.tokens), fmt.usd(m.costUsd)]), 'No calls in this range.'),
    table('Top agents', ['Agent', 'Requests', 'Errors', 'Findings', 'Cost'], stats.agents.map(m => [m.name, fmt.int(m.requests), fmt.int(m.errors), fmt.int(m.findings), fmt.usd(m.costUsd)]), 'No calls in this range.'));
  return [tiles, charts, budgets, top];
}


async function budgetSection(ctx, stats) {
  if (!ctx.scope) {
    const rows = (stats.tenants ?? []).map(r => [h('a', { href: '#/tenants/' + r.name }, ctx.tenantName(r.name)), fmt.int(r.requests), fmt.int(r.errors), fmt.int(r.findings), fmt.usd(r.costUsd)]);
    return h('section', {}, h('h2', {}, 'Spend by tenant'), table('', ['Tenant', 'Requests', 'Errors', 'Findings', 'Cost'], rows, 'No calls in this range.'));
  }
  const budget = await api(`/api/tenants/${ctx.scope}/budget`);
  const windows = budget.windows.filter(w => !w.agentId);
  return h('section', {}, h('h2', {}, 'Spend against budgets'),
    h('div', { class: 'meters' }, windows.map(w => meter(`${w.window} (${w.windowKey})`, w.spentUsd, w.hardUsd ?? 0, w.softUsd ?? 0))));
}
