import { api, query } from '../api.js';
import { h, replace, fmt, field, SEVERITIES } from '../dom.js';

const TAIL_MS = 2_000;
const PAGE = 50;

/** The filterable trace list, with a live tail and paging. Filters live in the address, so a filtered view can be shared. */
export async function render(main, ctx, params) {
  const filters = Object.fromEntries(['agentId', 'model', 'provider', 'status', 'findings', 'since', 'until'].map(k => [k, params.get(k) ?? '']));
  const tbody = h('tbody');
  const status = h('p', { class: 'muted', role: 'status' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  let continuation = null;
  let newest = null;
  let tail = null;

  const input = (name, attrs = {}) => h('input', { name, value: filters[name], ...attrs });
  const select = (name, options) => {
    const el = h('select', { name }, options.map(([v, t]) => h('option', { value: v }, t)));
    el.value = filters[name];
    return el;
  };
  const form = h('form', { class: 'filters', onsubmit: e => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    for (const k of ['since', 'until']) if (values[k]) values[k] = new Date(values[k]).toISOString();
    location.hash = '#/traces' + query(values);
  } },
  field('Agent', input('agentId', { placeholder: 'any' })),
  field('Model', input('model', { placeholder: 'any' })),
  field('Provider', select('provider', [['', 'any'], ['openai', 'OpenAI'], ['azure-openai', 'Azure OpenAI'], ['anthropic', 'Anthropic'], ['gemini', 'Gemini'], ['openai-compatible', 'OpenAI-compatible'], ['unknown', 'unknown']])),
  field('Status', select('status', [['', 'any'], ['ok', 'answered'], ['error', 'failed or refused']])),
  field('Findings', select('findings', [['', 'any'], ['true', 'with findings'], ['false', 'without']])),
  field('Since', input('since', { type: 'datetime-local', value: local(filters.since) })),
  field('Until', input('until', { type: 'datetime-local', value: local(filters.until) })),
  h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Filter'), h('a', { href: '#/traces', class: 'button secondary' }, 'Clear')));

  const live = h('input', { type: 'checkbox', id: 'live-tail' });
  const base = () => ({ tenantId: ctx.scope, ...filters, limit: PAGE });

  async function load(append) {
    try {
      const page = await api('/api/traces' + query({ ...base(), continuationToken: append ? continuation : '' }));
      if (!append) {
        tbody.replaceChildren();
        newest = page.items[0]?.startedAt ?? newest;
      }
      page.items.forEach(t => tbody.append(row(ctx, t)));
      continuation = page.continuationToken;
      more.hidden = !continuation;
      status.textContent = tbody.children.length === 0 ? 'No traces match these filters.' : `${tbody.children.length} traces shown.`;
    } catch (err) {
      replace(status, ctx.error(err));
    }
  }

  async function poll() {
    if (document.hidden || filters.until) return;
    try {
      const page = await api('/api/traces' + query({ ...base(), since: newest ?? filters.since, limit: 100 }));
      const fresh = page.items.filter(t => !tbody.querySelector(`[data-id="${t.traceId}"]`));
      fresh.reverse().forEach(t => tbody.prepend(row(ctx, t, true)));
      if (fresh.length) {
        newest = page.items[0].startedAt;
        status.textContent = `${tbody.children.length} traces shown; ${fresh.length} new.`;
      }
    } catch (err) {
      replace(status, ctx.error(err));
    }
  }

  live.addEventListener('change', () => {
    clearInterval(tail);
    tail = live.checked ? setInterval(poll, TAIL_MS) : null;
    if (live.checked) poll();
  });
  more.addEventListener('click', () => load(true));

  replace(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Traces'), h('label', { class: 'switch', for: 'live-tail' }, live, ' Live tail')),
    ctx.toolbar(() => load(false), { range: false }),
    form,
    h('div', { class: 'table-wrap' }, h('table', { class: 'traces' },
      h('caption', { class: 'visually-hidden' }, 'Traces, newest first'),
      h('thead', {}, h('tr', {}, ['Time', 'Tenant', 'Agent', 'Model', 'Status', 'Duration', 'TTFT', 'Tokens', 'Cost', 'Findings'].map(x => h('th', { scope: 'col' }, x)))),
      tbody)),
    status, more);
  await load(false);
  return () => clearInterval(tail);
}

function row(ctx, t, fresh = false) {
  const worst = SEVERITIES[t.findings.reduce((m, f) => Math.max(m, SEVERITIES.indexOf(f.severity)), 0)];
  return h('tr', { dataset: { id: t.traceId }, class: fresh ? 'fresh' : '' },
    h('td', {}, h('a', { href: '#/traces/' + t.traceId }, fmt.time(t.startedAt))),
    h('td', {}, ctx.tenantName(t.tenantId)),
    h('td', {}, t.agentId ?? '–'),
    h('td', {}, t.model ?? '–'),
    h('td', {}, h('span', { class: 'status ' + (t.statusCode >= 200 && t.statusCode < 400 ? 'ok' : 'bad') }, String(t.statusCode || 'none'))),
    h('td', { class: 'num' }, fmt.ms(t.durationMs)),
    h('td', { class: 'num' }, fmt.ms(t.ttftMs)),
    h('td', { class: 'num' }, t.totalTokens ? fmt.int(t.totalTokens) : '–'),
    h('td', { class: 'num' }, t.cost ? fmt.usd(t.cost.total) : '–'),
    h('td', {}, t.findings.length ? h('span', { class: 'badge sev-' + worst }, `${t.findings.length} · ${worst}`) : '–'));
}

function local(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
