import { api, query } from '../api.js';
import { h, fmt, table, meter, tile, statsPage } from '../dom.js';
import { bars } from '../charts.js';

/** Spend by day, model, agent and tenant, and every budget window as a bar against its soft and hard limits. */
export async function render(main, ctx) {
  await statsPage(main, ctx, 'Spend', () => content(ctx));
}

async function content(ctx) {
  const { from, to } = ctx.window();
  const long = ['7d', '30d'].includes(ctx.range);
  const stats = await api('/api/stats' + query({ tenantId: ctx.scope, from, to, bucket: long ? 'day' : 'hour' }));
  const label = long ? iso => iso.slice(5, 10) : iso => fmt.time(iso).slice(12, 17);
  const parts = [
    h('div', { class: 'tiles' },
      tile('Spend in range', fmt.usd(stats.totals.costUsd)),
      tile('Tokens', fmt.compact(stats.totals.promptTokens + stats.totals.completionTokens), `${fmt.compact(stats.totals.promptTokens)} in · ${fmt.compact(stats.totals.completionTokens)} out`),
      tile('Requests', fmt.int(stats.totals.requests))),
    h('div', { class: 'grid2' },
      bars(long ? 'Cost per day' : 'Cost per hour', stats.points, [{ name: 'USD', cls: 's-alt', value: p => p.costUsd }], { label, format: fmt.usd }),
      table('By model', ['Model', 'Requests', 'Tokens', 'Cost'], stats.models.map(r => [r.name, fmt.int(r.requests), fmt.compact(r.tokens), fmt.usd(r.costUsd)]), 'No spend in this range.')),
    h('div', { class: 'grid2' },
      table('By agent', ['Agent', 'Requests', 'Tokens', 'Cost'], stats.agents.map(r => [r.name, fmt.int(r.requests), fmt.compact(r.tokens), fmt.usd(r.costUsd)]), 'No spend in this range.'),
      stats.tenants
        ? table('By tenant', ['Tenant', 'Requests', 'Tokens', 'Cost'], stats.tenants.map(r => [h('a', { href: '#/tenants/' + r.name }, ctx.tenantName(r.name)), fmt.int(r.requests), fmt.compact(r.tokens), fmt.usd(r.costUsd)]), 'No spend in this range.')
        : null),
  ];
  parts.push(h('h2', {}, 'Budgets'));
  const tenants = ctx.scope ? [ctx.scope] : ctx.tenants.filter(t => Object.keys(t.budgets ?? {}).length || Object.keys(t.agentBudgets ?? {}).length).map(t => t.tenantId);
  if (tenants.length === 0) parts.push(h('p', { class: 'empty' }, 'No tenant has a budget. Set one on the Tenants & keys page.'));
  for (const id of tenants.slice(0, 20)) {
    const budget = await api(`/api/tenants/${id}/budget`);
    const groups = new Map();
    for (const w of budget.windows) {
      const key = w.agentId ?? '';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(w);
    }
    parts.push(h('section', { class: 'card' }, h('h3', {}, ctx.tenantName(id)),
      [...groups].map(([agent, windows]) => h('div', { class: 'meters' }, h('h4', {}, agent ? 'Agent ' + agent : 'Tenant'),
        windows.map(w => meter(`${w.window} · ${w.windowKey}${w.hardCapReached ? ' · cap reached' : ''}`, w.spentUsd, w.hardUsd ?? 0, w.softUsd ?? 0))))));
  }
  return parts;
}
