// Small SVG charts drawn with DOM calls (no library, nothing fetched): stacked bars and lines over time buckets. Each
// chart has a text summary for screen readers, and each bar or point a <title> with its value.

import { h, s, fmt } from './dom.js';

const W = 640, H = 220, PAD = { l: 66, r: 10, t: 10, b: 24 };

/** The top of the axis: four equal steps of a round size (whole numbers for counts). */
function scaleMax(values, integer) {
  const max = Math.max(0, ...values);
  if (max === 0) return integer ? 4 : 1;
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 2.5, 5, 10]) {
    const size = step * magnitude;
    if (size >= raw && (!integer || Number.isInteger(size))) return size * 4;
  }
  return Math.ceil(raw) * 4;
}

function axis(svg, max, format, points, label) {
  for (let i = 0; i <= 4; i++) {
    const y = PAD.t + (H - PAD.t - PAD.b) * (1 - i / 4);
    svg.append(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: 'grid' }));
    svg.append(s('text', { x: PAD.l - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, (format.axis ?? format)(max * i / 4)));
  }
  const n = points.length;
  const every = Math.max(1, Math.ceil(n / 6));
  points.forEach((p, i) => {
    if (i % every !== 0) return;
    const x = PAD.l + (W - PAD.l - PAD.r) * (i + 0.5) / n;
    svg.append(s('text', { x, y: H - 6, class: 'tick', 'text-anchor': 'middle' }, label(p.start)));
  });
}

function frame(title, summary) {
  return s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}. ${summary}`, class: 'chart-svg' });
}

/** Stacked bars: series = [{ name, cls, value: point => number }]. */
export function bars(title, points, series, { format = fmt.compact, label = fmt.clock, integer = format === fmt.compact } = {}) {
  const totals = points.map(p => series.reduce((a, x) => a + x.value(p), 0));
  const max = scaleMax(totals, integer);
  const sum = totals.reduce((a, b) => a + b, 0);
  const svg = frame(title, `${series.map(x => `${x.name} ${format(points.reduce((a, p) => a + x.value(p), 0))}`).join(', ')} over ${points.length} buckets.`);
  axis(svg, max, format, points, label);
  const slot = (W - PAD.l - PAD.r) / Math.max(points.length, 1);
  points.forEach((p, i) => {
    let base = 0;
    for (const x of series) {
      const v = x.value(p);
      if (v <= 0) continue;
      const height = (H - PAD.t - PAD.b) * v / max;
      const y = H - PAD.b - (H - PAD.t - PAD.b) * (base + v) / max;
      svg.append(s('rect', { x: PAD.l + i * slot + slot * 0.1, y, width: Math.max(slot * 0.8, 1), height, class: 'bar ' + x.cls },
        s('title', {}, `${label(p.start)} ${x.name}: ${format(v)}`)));
      base += v;
    }
  });
  return chart(title, svg, series, sum === 0);
}

/** Lines: series = [{ name, cls, value: point => number | null }]. */
export function lines(title, points, series, { format = fmt.ms, label = fmt.clock } = {}) {
  const values = points.flatMap(p => series.map(x => x.value(p) ?? 0));
  const max = scaleMax(values, false);
  const svg = frame(title, series.map(x => `${x.name} up to ${format(Math.max(0, ...points.map(p => x.value(p) ?? 0)))}`).join(', ') + '.');
  axis(svg, max, format, points, label);
  const n = Math.max(points.length, 1);
  for (const x of series) {
    let path = '';
    points.forEach((p, i) => {
      const v = x.value(p);
      if (v === null || v === undefined) return;
      const px = PAD.l + (W - PAD.l - PAD.r) * (i + 0.5) / n;
      const py = H - PAD.b - (H - PAD.t - PAD.b) * v / max;
      path += (path ? ' L' : 'M') + px.toFixed(1) + ' ' + py.toFixed(1);
      svg.append(s('circle', { cx: px, cy: py, r: 2.5, class: 'dot ' + x.cls }, s('title', {}, `${label(p.start)} ${x.name}: ${format(v)}`)));
    });
    if (path) svg.append(s('path', { d: path, class: 'line ' + x.cls }));
  }
  return chart(title, svg, series, values.every(v => !v));
}

function chart(title, svg, series, empty) {
  return h('figure', { class: 'chart' },
    h('figcaption', {}, h('span', {}, title),
      h('span', { class: 'legend' }, series.map(x => h('span', { class: 'key ' + x.cls }, x.name)))),
    empty ? h('p', { class: 'empty' }, 'No calls in this range.') : svg);
}
