import { api, query } from '../api.js';
import { h, fmt, table, tile, bucketLabel, statsPage, SEVERITIES } from '../dom.js';
import { bars } from '../charts.js';

/** Findings by severity over time and by type, the most flagged agents and tenants, and the latest findings. */
export async function render(main, ctx) {
  await statsPage(main, ctx, 'Security', () => content(ctx));
}

async function content(ctx) {
  const { from, to } = ctx.window();
  const [stats, recent] = await Promise.all([
    api('/api/stats' + query({ tenantId: ctx.scope, from, to })),
    api('/api/findings' + query({ tenantId: ctx.scope, since: from, until: to, limit: 50 })),
  ]);
  const label = bucketLabel(stats.bucket);
  const flaggedAgents = stats.agents.filter(a => a.findings > 0).sort((a, b) => b.findings - a.findings);
  const flaggedTenants = (stats.tenants ?? []).filter(a => a.findings > 0).sort((a, b) => b.findings - a.findings);
  return [
    h('div', { class: 'tiles' },
      tile('Blocked calls', fmt.int(stats.totals.blockedRequests)),
      tile('Flagged calls', fmt.int(stats.totals.flaggedRequests))),
    h('div', { class: 'tiles' }, SEVERITIES.slice().reverse().map(s => tile(s, fmt.int(stats.totals.findings[SEVERITIES.indexOf(s)]), null, 'sev-tile sev-' + s))),
    h('div', { class: 'grid2' }, bars('Flagged calls by action', stats.points, [
      { name: 'blocked', cls: 's-bad', value: p => p.blockedRequests },
      { name: 'flagged and answered', cls: 's-warn', value: p => Math.max(0, p.flaggedRequests - p.blockedRequests) },
    ], { label }),
    bars('Findings by severity', stats.points, SEVERITIES.map((s, i) => ({ name: s, cls: 'sev-' + s, value: p => p.findings[i] })), { label })),
    h('div', { class: 'grid2' },
      table('By type', ['Type', 'Findings'], stats.findingTypes.map(f => [f.name, fmt.int(f.requests)]), 'No findings in this range.'),
      table('Most flagged agents', ['Agent', 'Findings', 'Requests'], flaggedAgents.map(a => [h('a', { href: '#/traces?findings=true&agentId=' + encodeURIComponent(a.name) }, a.name), fmt.int(a.findings), fmt.int(a.requests)]), 'No agent was flagged.')),
    stats.tenants ? table('Most flagged tenants', ['Tenant', 'Findings', 'Requests'], flaggedTenants.map(a => [ctx.tenantName(a.name), fmt.int(a.findings), fmt.int(a.requests)]), 'No tenant was flagged.') : null,
    table('Latest findings', ['Time', 'Severity', 'Type', 'Tenant', 'Model', 'Detail', 'Trace'], recent.items.map(f => [
      fmt.time(f.at), h('span', { class: 'badge sev-' + f.finding.severity }, f.finding.severity), f.finding.type, ctx.tenantName(f.tenantId), f.model ?? '–',
      [f.finding.message, f.finding.preview].filter(Boolean).join(' · '), h('a', { href: '#/traces/' + f.traceId }, 'open')]), 'No findings in this range.'),
  ];
}
