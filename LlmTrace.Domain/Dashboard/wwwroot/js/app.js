import { api, session, ApiError } from './api.js';
import { h, replace, fmt, field } from './dom.js';
import * as overview from './pages/overview.js';
import * as traces from './pages/traces.js';
import * as trace from './pages/trace.js';
import * as spend from './pages/spend.js';
import * as security from './pages/security.js';
import * as tenants from './pages/tenants.js';

const main = document.getElementById('main');
const RANGES = { '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };

const ctx = {
  me: null,
  tenants: [],
  get scope() { return this.me?.admin ? sessionStorage.getItem('llmtrace.scope') ?? '' : this.me?.tenantId ?? ''; },
  set scope(value) { sessionStorage.setItem('llmtrace.scope', value); },
  get range() { return sessionStorage.getItem('llmtrace.range') ?? '1h'; },
  set range(value) { sessionStorage.setItem('llmtrace.range', value); },
  /** The selected range as ISO from/to. */
  window() {
    const to = new Date();
    return { from: new Date(to.getTime() - RANGES[this.range]).toISOString(), to: to.toISOString() };
  },
  tenantName(id) {
    return this.tenants.find(t => t.tenantId === id)?.name ?? fmt.short(id, 8);
  },
  canManage() {
    return this.me?.admin || this.me?.roles?.includes('tenant-admin');
  },
  /** The tenant and range controls most pages share; onChange re-renders the page. */
  toolbar(onChange, { range = true } = {}) {
    const controls = [];
    if (this.me.admin) {
      const select = h('select', { onchange: e => { this.scope = e.target.value; onChange(); } },
        h('option', { value: '' }, 'All tenants'),
        this.tenants.map(t => h('option', { value: t.tenantId }, t.name)));
      select.value = this.scope;
      controls.push(field('Tenant', select));
    }
    if (range) {
      const select = h('select', { onchange: e => { this.range = e.target.value; onChange(); } },
        Object.keys(RANGES).map(r => h('option', { value: r }, 'Last ' + r)));
      select.value = this.range;
      controls.push(field('Time range', select));
    }
    return h('div', { class: 'toolbar' }, controls);
  },
  error(err) {
    if (err instanceof ApiError && err.status === 401) {
      signIn('Your key is no longer accepted. Sign in again.');
      return h('p', {}, '');
    }
    return h('p', { class: 'error', role: 'alert' }, err instanceof ApiError ? err.message : 'Something went wrong: ' + err);
  },
};

let cleanup = null;
let tenantsLoadedAt = 0;

/** Tenant names for labels and the tenant picker; tenants appear as calls arrive, so the list is refreshed now and then. */
async function refreshTenants(force = false) {
  if (!force && Date.now() - tenantsLoadedAt < 30_000) return;
  try {
    ctx.tenants = (await api('/api/tenants?limit=1000')).items ?? [];
    tenantsLoadedAt = Date.now();
  } catch {
    // Labels fall back to ids.
  }
}

async function route() {
  if (!ctx.me) return;
  cleanup?.();
  cleanup = null;
  const [path, search] = (location.hash.slice(1) || '/').split('?');
  const params = new URLSearchParams(search ?? '');
  const parts = path.split('/').filter(Boolean);
  const page =
    parts[0] === 'traces' && parts[1] ? () => trace.render(main, ctx, parts[1]) :
    parts[0] === 'traces' ? () => traces.render(main, ctx, params) :
    parts[0] === 'spend' ? () => spend.render(main, ctx) :
    parts[0] === 'security' ? () => security.render(main, ctx) :
    parts[0] === 'tenants' ? () => tenants.render(main, ctx, parts[1]) :
    () => overview.render(main, ctx);
  for (const link of document.querySelectorAll('#nav a')) {
    if ((parts[0] ?? '') === link.getAttribute('href').slice(2)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  replace(main, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  await refreshTenants();
  try {
    cleanup = await page() ?? null;
  } catch (err) {
    replace(main, ctx.error(err));
  }
}

async function start() {
  try {
    ctx.me = await api('/api/me');
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return signIn(session.key ? err.message : null);
    replace(main, ctx.error(err));
    return;
  }
  await refreshTenants(true);
  document.getElementById('nav').hidden = false;
  document.getElementById('who').hidden = false;
  document.getElementById('who-label').textContent = ctx.me.admin
    ? (ctx.me.keyId ? 'Administrator key ' + ctx.me.keyId : 'Administrator')
    : `${ctx.tenantName(ctx.me.tenantId)} · ${ctx.me.roles.join(', ')}`;
  await route();
}

function signIn(problem) {
  ctx.me = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  const input = h('input', { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const form = h('form', { class: 'card sign-in', onsubmit: async e => {
    e.preventDefault();
    session.key = input.value.trim();
    await start();
  } },
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Use the admin key, or a gateway key (ltk_…) with the viewer, tenant-admin or admin role. The key stays in this tab only.'),
  problem ? h('p', { class: 'error', role: 'alert' }, problem) : null,
  field('Key', input),
  h('button', { type: 'submit' }, 'Sign in'));
  replace(main, form);
  input.focus();
}

document.getElementById('sign-out').addEventListener('click', () => {
  session.key = null;
  sessionStorage.removeItem('llmtrace.scope');
  cleanup?.();
  signIn(null);
});
window.addEventListener('hashchange', () => { route(); main.focus({ preventScroll: true }); });
start();
