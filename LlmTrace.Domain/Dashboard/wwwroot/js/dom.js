// Building the page without HTML strings: text always goes in as text, so prompts and responses (attacker-controlled)
// can never become markup.

const SVG = 'http://www.w3.org/2000/svg';

/** Creates an element: attributes (on* keys become listeners) and children (strings become text nodes). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  return fill(el, attrs, children);
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  return fill(el, attrs, children);
}

function fill(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.setAttribute('class', value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' && 'checked' in el) el.checked = !!value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const numberFormat = new Intl.NumberFormat('en-US');
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const fmt = {
  int: n => numberFormat.format(n ?? 0),
  compact: n => compactFormat.format(n ?? 0),
  usd: Object.assign(n => {
    const v = Number(n ?? 0);
    if (v === 0) return '$0';
    if (Math.abs(v) < 1e-8) return '< $0.00000001';
    if (Math.abs(v) < 0.01) return '$' + v.toFixed(8).replace(/0+$/, '');
    return '$' + v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }, {
    /** Short labels for an axis: two significant digits. */
    axis: n => n === 0 ? '$0' : '$' + (n >= 0.01 ? Number(n.toPrecision(3)).toLocaleString('en-US') : n.toPrecision(2).replace(/e-(\d+)$/, 'e-$1')),
  }),
  ms: n => n === null || n === undefined ? '–' : n < 10 ? n.toFixed(2) + ' ms' : n < 1000 ? Math.round(n) + ' ms' : (n / 1000).toFixed(2) + ' s',
  pct: n => ((n ?? 0) * 100).toFixed(1) + ' %',
  time: iso => iso ? new Date(iso).toLocaleString('en-GB', { hour12: false }) : '–',
  clock: iso => iso ? new Date(iso).toLocaleTimeString('en-GB', { hour12: false }) : '–',
  short: (text, n = 12) => !text ? '' : text.length > n ? text.slice(0, n) + '…' : text,
};

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

/** A table with a caption, header cells and rows (arrays of cells: strings or nodes). */
export function table(caption, headers, rows, empty = 'Nothing yet.') {
  if (rows.length === 0) return h('div', { class: 'table-wrap empty-table' }, caption ? h('h3', {}, caption) : null, h('p', { class: 'empty' }, empty));
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: caption ? '' : 'visually-hidden' }, caption || 'Table'),
      h('thead', {}, h('tr', {}, headers.map(x => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map(r => r instanceof Node ? r : h('tr', {}, r.map(c => h('td', {}, c)))))));
}

/** A labelled form control. */
export function field(label, control, hint) {
  const id = control.id || (control.id = 'f-' + Math.random().toString(36).slice(2, 9));
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', {}, hint) : null);
}

/** A progress bar with its meaning in words. */
export function meter(label, value, max, soft) {
  const ratio = max > 0 ? Math.min(value / max, 1) : 0;
  const state = max > 0 && value >= max ? 'over' : soft > 0 && value >= soft ? 'soft' : 'ok';
  const bar = h('div', { class: 'meter-fill ' + state });
  bar.style.width = (ratio * 100).toFixed(1) + '%';
  const words = max > 0 ? `${fmt.usd(value)} of ${fmt.usd(max)}` + (soft ? ` (soft ${fmt.usd(soft)})` : '') : `${fmt.usd(value)}, no hard limit` + (soft ? ` (soft ${fmt.usd(soft)})` : '');
  return h('div', { class: 'meter', role: 'meter', 'aria-label': label, 'aria-valuenow': value, 'aria-valuemin': 0, 'aria-valuemax': max || value || 1, 'aria-valuetext': words },
    h('div', { class: 'meter-label' }, h('span', {}, label), h('span', {}, words)),
    h('div', { class: 'meter-track' }, bar));
}

/** A figure with its label and an optional detail line; cls adds classes (a warning, a severity). */
export function tile(label, value, detail, cls = '') {
  return h('div', { class: 'tile ' + cls }, h('div', { class: 'tile-label' }, label), h('div', { class: 'tile-value' }, value),
    detail ? h('div', { class: 'tile-detail' }, detail) : null);
}

/** How a chart labels a bucket of a /api/stats report: the time for minutes, date and hour for hours, the date for days. */
export function bucketLabel(bucket) {
  return bucket === 'minute' ? iso => fmt.clock(iso).slice(0, 5) : bucket === 'hour' ? iso => fmt.time(iso).slice(0, 17) : iso => iso.slice(0, 10);
}

/**
 * A page whose content depends on the shared tenant and range: its heading (and an optional aside), the toolbar, and a
 * body drawn by content(), redrawn when the toolbar changes; errors are shown in words in the body. Returns the redraw.
 */
export async function statsPage(main, ctx, title, content, { aside = null, onDrawn = null } = {}) {
  const body = h('div', { 'aria-live': 'polite' });
  const draw = async () => {
    try {
      replace(body, ...(await content()));
      onDrawn?.();
    } catch (err) {
      replace(body, ctx.error(err));
    }
  };
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, title), aside), ctx.toolbar(draw), body);
  await draw();
  return draw;
}
