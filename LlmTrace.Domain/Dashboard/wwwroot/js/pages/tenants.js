import { api, query, ApiError } from '../api.js';
import { h, replace, fmt, table, field } from '../dom.js';

const WINDOWS = ['hourly', 'daily', 'weekly', 'monthly'];
const ROLES = ['app', 'viewer', 'tenant-admin', 'admin'];

/** Tenants (administrators create them), and one tenant's settings, budgets, keys and audit log. */
export async function render(main, ctx, id) {
  if (id) return detail(main, ctx, id);
  ctx.tenants = (await api('/api/tenants?limit=1000')).items ?? [];
  const list = table('Tenants', ['Name', 'Tenant id', 'Budgets', 'Rate limits', 'Created'], ctx.tenants.map(t => [
    h('a', { href: '#/tenants/' + t.tenantId }, t.name), h('code', {}, t.tenantId),
    Object.entries(t.budgets ?? {}).map(([w, b]) => `${w} ${b.hardUsd !== undefined && b.hardUsd !== null ? fmt.usd(b.hardUsd) : 'soft ' + fmt.usd(b.softUsd)}`).join(', ') || '–',
    t.rateLimits ? `${t.rateLimits.requestsPerMinute ?? '–'} req/min · ${t.rateLimits.tokensPerMinute ?? '–'} tok/min` : '–',
    fmt.time(t.createdAt)]), 'No tenants yet.');
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Tenants & keys')), ctx.me.admin ? createTenant(ctx) : null, list);
}

function createTenant(ctx) {
  const name = h('input', { name: 'name', required: true, maxlength: 128 });
  const daily = h('input', { name: 'daily', type: 'number', min: 0, step: '0.01', placeholder: 'none' });
  const monthly = h('input', { name: 'monthly', type: 'number', min: 0, step: '0.01', placeholder: 'none' });
  const rpm = h('input', { name: 'rpm', type: 'number', min: 1, step: 1, placeholder: 'none' });
  const message = h('p', { role: 'status' });
  const form = h('form', { class: 'card inline-form', onsubmit: async e => {
    e.preventDefault();
    const budgets = {};
    if (daily.value) budgets.daily = { hardUsd: Number(daily.value) };
    if (monthly.value) budgets.monthly = { hardUsd: Number(monthly.value) };
    try {
      const created = await api('/api/tenants', { method: 'POST', body: { name: name.value.trim(), budgets, rateLimits: rpm.value ? { requestsPerMinute: Number(rpm.value) } : undefined } });
      ctx.tenants = (await api('/api/tenants?limit=1000')).items ?? ctx.tenants;
      location.hash = '#/tenants/' + created.tenantId;
    } catch (err) {
      replace(message, problem(err));
    }
  } },
  h('h2', {}, 'New tenant'),
  h('div', { class: 'row' }, field('Name', name), field('Daily hard budget (USD)', daily), field('Monthly hard budget (USD)', monthly), field('Requests per minute', rpm),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Create tenant'))),
  message);
  return form;
}

async function detail(main, ctx, id) {
  const { json: tenant, etag } = await api('/api/tenants/' + encodeURIComponent(id), { raw: true });
  const [keys, audit] = await Promise.all([
    api(`/api/tenants/${tenant.tenantId}/keys`).catch(err => ({ error: err })),
    api('/api/audit' + query({ tenantId: tenant.tenantId, limit: 50 })).catch(err => ({ error: err })),
  ]);
  const manage = ctx.me.admin || (ctx.me.tenantId === tenant.tenantId && ctx.me.roles.includes('tenant-admin'));
  replace(main,
    h('p', {}, h('a', { href: '#/tenants' }, '← Tenants')),
    h('div', { class: 'page-head' }, h('h1', {}, tenant.name), h('code', { class: 'muted' }, tenant.tenantId)),
    settings(ctx, tenant, etag, manage),
    h('h2', {}, 'Keys'),
    manage ? createKey(ctx, tenant) : null,
    keys.error ? problem(keys.error) : keyTable(ctx, tenant, keys.items, manage),
    h('h2', {}, 'Audit log'),
    audit.error ? problem(audit.error) : table('', ['When', 'Who', 'What', 'Target', 'Fields changed'], audit.items.map(a => [fmt.time(a.at), a.actor, a.action, a.target ?? '–', a.changes.join(', ') || '–']), 'No management actions yet.'));
}

function settings(ctx, tenant, etag, manage) {
  const name = h('input', { value: tenant.name, required: true, maxlength: 128, disabled: !manage });
  const budgetInputs = WINDOWS.map(w => ({
    w,
    soft: h('input', { type: 'number', min: 0, step: '0.01', value: tenant.budgets?.[w]?.softUsd ?? '', placeholder: 'none', disabled: !ctx.me.admin }),
    hard: h('input', { type: 'number', min: 0, step: '0.01', value: tenant.budgets?.[w]?.hardUsd ?? '', placeholder: 'none', disabled: !ctx.me.admin }),
  }));
  const rpm = h('input', { type: 'number', min: 1, value: tenant.rateLimits?.requestsPerMinute ?? '', placeholder: 'none', disabled: !ctx.me.admin });
  const tpm = h('input', { type: 'number', min: 1, value: tenant.rateLimits?.tokensPerMinute ?? '', placeholder: 'none', disabled: !ctx.me.admin });
  const message = h('p', { role: 'status' });
  const form = h('form', { class: 'card', onsubmit: async e => {
    e.preventDefault();
    try {
      const patch = { name: name.value.trim() };
      if (ctx.me.admin) patch.rateLimits = { requestsPerMinute: rpm.value ? Number(rpm.value) : null, tokensPerMinute: tpm.value ? Number(tpm.value) : null };
      await api('/api/tenants/' + tenant.tenantId, { method: 'PATCH', body: patch, ifMatch: etag });
      if (ctx.me.admin) {
        const budgets = {};
        for (const b of budgetInputs) {
          if (b.soft.value || b.hard.value) budgets[b.w] = { softUsd: b.soft.value ? Number(b.soft.value) : null, hardUsd: b.hard.value ? Number(b.hard.value) : null };
        }
        await api(`/api/tenants/${tenant.tenantId}/budget`, { method: 'PUT', body: { budgets, agentBudgets: tenant.agentBudgets ?? {} } });
      }
      ctx.tenants = (await api('/api/tenants?limit=1000')).items ?? ctx.tenants;
      location.hash = '#/tenants/' + tenant.tenantId + '?saved=' + Date.now();
    } catch (err) {
      replace(message, problem(err));
    }
  } },
  h('h2', {}, 'Settings'),
  h('div', { class: 'row' }, field('Name', name), field('Requests per minute', rpm), field('Tokens per minute', tpm)),
  h('div', { class: 'table-wrap' }, h('table', { class: 'budget-form' },
    h('caption', {}, 'Budgets (USD): a soft limit alerts, a hard limit refuses calls until the window ends'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Window'), h('th', { scope: 'col' }, 'Soft'), h('th', { scope: 'col' }, 'Hard'))),
    h('tbody', {}, budgetInputs.map(b => h('tr', {}, h('th', { scope: 'row' }, b.w),
      h('td', {}, labelled(b.soft, `${b.w} soft limit`)), h('td', {}, labelled(b.hard, `${b.w} hard limit`))))))),
  manage ? h('button', { type: 'submit' }, 'Save settings') : h('p', { class: 'muted' }, 'Only an administrator or this tenant\'s tenant-admin can change these.'),
  message);
  return form;
}

function labelled(input, label) {
  input.setAttribute('aria-label', label);
  return input;
}

function createKey(ctx, tenant) {
  const name = h('input', { maxlength: 128, placeholder: 'e.g. checkout-api' });
  const role = h('select', {}, ROLES.filter(r => ctx.me.admin || r !== 'admin').map(r => h('option', { value: r }, r)));
  const result = h('div', { 'aria-live': 'polite' });
  return h('form', { class: 'card inline-form', onsubmit: async e => {
    e.preventDefault();
    try {
      const created = await api(`/api/tenants/${tenant.tenantId}/keys`, { method: 'POST', body: { name: name.value.trim() || undefined, roles: [role.value] } });
      const secret = h('input', { value: created.secret, readonly: true, class: 'secret', 'aria-label': 'New key secret' });
      const copied = h('span', { role: 'status' });
      replace(result, h('div', { class: 'notice' },
        h('p', {}, h('strong', {}, 'Copy this key now: it is shown only once.'), ` ${created.key.name ?? created.key.keyId} (${created.key.roles.join(', ')})`),
        h('div', { class: 'row' }, secret,
          h('button', { type: 'button', onclick: async () => {
            secret.select();
            try { await navigator.clipboard.writeText(created.secret); copied.textContent = 'Copied.'; } catch { copied.textContent = 'Selected: press Ctrl+C to copy.'; }
          } }, 'Copy'),
          h('button', { type: 'button', class: 'secondary', onclick: () => { location.hash = '#/tenants/' + tenant.tenantId + '?k=' + Date.now(); } }, 'Done')),
        copied));
      secret.focus();
      secret.select();
    } catch (err) {
      replace(result, problem(err));
    }
  } },
  h('div', { class: 'row' }, field('Key name', name), field('Role', role), h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Create key'))),
  result);
}

function keyTable(ctx, tenant, keys, manage) {
  return table('', ['Name', 'Key', 'Roles', 'Created', 'Last used', 'State', ''], keys.map(k => {
    const state = h('span', { class: k.revokedAt ? 'status bad' : 'status ok' }, k.revokedAt ? 'revoked ' + fmt.time(k.revokedAt) : 'active');
    let armed = false;
    const revoke = !manage || k.revokedAt ? '' : h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke key ${k.name ?? k.keyId}`, onclick: async e => {
      const button = e.currentTarget;
      if (!armed) {
        armed = true;
        button.textContent = 'Confirm revoke';
        return;
      }
      try {
        await api(`/api/tenants/${tenant.tenantId}/keys/${k.keyId}`, { method: 'DELETE' });
        location.hash = '#/tenants/' + tenant.tenantId + '?r=' + Date.now();
      } catch (err) {
        button.replaceWith(problem(err));
      }
    } }, 'Revoke');
    return [k.name ?? '–', h('code', {}, `${k.prefix}…${k.lastFour}`), k.roles.join(', '), fmt.time(k.createdAt), fmt.time(k.lastUsedAt), state, revoke];
  }), 'No keys yet.');
}

function problem(err) {
  const text = err instanceof ApiError
    ? err.message + (err.fields ? ' ' + Object.entries(err.fields).map(([f, m]) => `${f}: ${[].concat(m).join(' ')}`).join('; ') : '')
    : String(err);
  return h('p', { class: 'error', role: 'alert' }, text);
}
