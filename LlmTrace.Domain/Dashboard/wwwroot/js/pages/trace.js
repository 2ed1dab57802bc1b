import { api } from '../api.js';
import { h, replace, fmt, table } from '../dom.js';

const ROLE_NAMES = {
  system: 'System', developer: 'Developer', user: 'User', assistant: 'Assistant', tool: 'Tool result',
  document: 'Document', tool_call: 'Tool call', unknown: 'Unrecognised field', prompt: 'Prompt',
};

/** One trace: the conversation by role with findings marked on the text they point at, costs, timings, attempts, raw JSON. */
export async function render(main, ctx, id) {
  const t = await api('/api/traces/' + encodeURIComponent(id));
  const requestFindings = t.findings.filter(f => f.location === 'request');
  const summary = h('dl', { class: 'facts' },
    fact('Started', fmt.time(t.startedAt)),
    fact('Tenant', ctx.tenantName(t.tenantId)),
    fact('Agent', t.agentId ?? '–'),
    fact('Provider · model', `${t.provider} · ${t.model ?? '–'}`),
    fact('Endpoint', `${t.method} ${t.endpoint}`),
    fact('Status', h('span', { class: 'status ' + (t.statusCode >= 200 && t.statusCode < 400 ? 'ok' : 'bad') }, String(t.statusCode || 'no answer'))),
    fact('Duration', fmt.ms(t.durationMs)),
    fact('Time to first token', fmt.ms(t.ttftMs)),
    fact('Streamed', t.streaming ? 'yes' : 'no'),
    fact('Tokens', t.totalTokens ? `${fmt.int(t.promptTokens)} in${t.cachedPromptTokens ? ` (${fmt.int(t.cachedPromptTokens)} cached)` : ''} · ${fmt.int(t.completionTokens)} out${t.usageEstimated ? ' (estimated)' : ''}` : '–'),
    fact('Backend', t.backend ?? 'single upstream'),
    fact('Guard', t.guardCoverage ? `${t.guardAnalysis ?? 'rules'} · ${t.guardCoverage}` : 'did not run'),
    t.error ? fact('Error', t.error) : null,
    t.finishReason ? fact('Finish reason', t.finishReason) : null);

  const cost = t.cost
    ? table('Cost', ['Input', 'Cached input', 'Cache writes', 'Output', 'Total', 'Priced as'],
      [[fmt.usd(t.cost.input), fmt.usd(t.cost.cachedInput), fmt.usd(t.cost.cacheWrite), fmt.usd(t.cost.output), h('strong', {}, fmt.usd(t.cost.total)), t.cost.pricedAs]])
    : h('p', { class: 'muted' }, t.priced === false ? 'The model is not in the pricing catalog, so this call has no cost.' : 'Not priced yet.');

  const attempts = t.attempts?.length
    ? table('Attempts', ['Backend', 'Outcome', 'Status', 'Duration'], t.attempts.map(a => [a.backend, a.outcome, String(a.status ?? '–'), fmt.ms(a.durationMs)]))
    : null;

  const findings = table('Findings', ['Severity', 'Type', 'Where', 'Detector', 'Detail'], t.findings.map(f => [
    h('span', { class: 'badge sev-' + f.severity }, f.severity), f.type,
    f.location + (f.source ? ` · ${ROLE_NAMES[f.source] ?? f.source}` : '') + (f.messageIndex !== undefined && f.messageIndex !== null ? ` · message ${f.messageIndex}` : ''),
    f.detector, [f.message, f.preview].filter(Boolean).join(' · ')]), 'No findings.');

  replace(main,
    h('p', {}, h('a', { href: '#/traces' }, '← Traces')),
    h('div', { class: 'page-head' }, h('h1', {}, 'Trace'), h('code', { class: 'muted' }, t.traceId)),
    summary, findings,
    h('h2', {}, 'Conversation'),
    h('ol', { class: 'conversation' }, conversation(t, requestFindings)),
    h('h2', {}, 'Cost'), cost,
    attempts ? [h('h2', {}, 'Backends tried'), attempts] : null,
    h('details', { class: 'raw' }, h('summary', {}, 'Raw JSON'), h('pre', {}, JSON.stringify(t, null, 2))));
}

function fact(name, value) {
  return h('div', {}, h('dt', {}, name), h('dd', {}, value));
}

function conversation(t, requestFindings) {
  const items = [];
  const prompt = t.prompt ?? '';
  const spans = spansIn(prompt, requestFindings);
  const segments = t.segments ?? (prompt ? [{ source: 'prompt', start: 0, length: prompt.length }] : []);
  for (const seg of segments) {
    const flagged = requestFindings.filter(f => f.source === seg.source && (f.messageIndex ?? null) === (seg.message ?? null) && f.start == null);
    items.push(message(seg.source, seg.message, prompt, seg.start, seg.start + seg.length, spans, flagged));
  }
  for (const call of t.toolCalls.filter(c => c.source === 'response')) {
    items.push(h('li', { class: 'msg role-tool_call' }, h('div', { class: 'msg-head' }, h('span', { class: 'role' }, 'Tool call (response)'), h('code', {}, call.name)),
      h('pre', { class: 'msg-text' }, call.arguments ?? '')));
  }
  if (t.response) {
    const responseFindings = t.findings.filter(f => f.location === 'response');
    items.push(message('response', null, t.response, 0, t.response.length, spansIn(t.response, responseFindings), responseFindings.filter(f => f.start == null)));
  }
  if (items.length === 0) items.push(h('li', { class: 'empty' }, 'No prompt or response was captured.'));
  return items;
}

function message(source, index, text, start, end, spans, flagged) {
  const body = h('div', { class: 'msg-text' });
  let at = start;
  for (const span of spans.filter(x => x.end > start && x.start < end)) {
    const from = Math.max(span.start, start), to = Math.min(span.end, end);
    if (from > at) body.append(text.slice(at, from));
    body.append(h('mark', { class: 'sev-' + span.finding.severity, title: `${span.finding.type}: ${span.finding.message ?? ''}` }, text.slice(from, to)));
    at = to;
  }
  if (at < end) body.append(text.slice(at, end));
  const name = source === 'response' ? 'Assistant (response)' : ROLE_NAMES[source] ?? source;
  return h('li', { class: `msg role-${source}${flagged.length ? ' flagged' : ''}` },
    h('div', { class: 'msg-head' }, h('span', { class: 'role' }, name), index !== null && index !== undefined ? h('span', { class: 'muted' }, 'message ' + index) : null,
      flagged.map(f => h('span', { class: 'badge sev-' + f.severity }, `${f.type} · ${f.severity}`))),
    body);
}

/**
 * Where each finding with a span lies in the stored text. Spans are counted in the text as it was sent; a value the
 * gateway redacted is stored as [REDACTED:kind], so spans after it move by the difference.
 */
function spansIn(text, findings) {
  const spans = [];
  let shift = 0;
  for (const f of findings.filter(x => Number.isInteger(x.start) && Number.isInteger(x.length)).sort((a, b) => a.start - b.start)) {
    const start = f.start + shift;
    if (start < 0 || start >= text.length) continue;
    if (text.startsWith('[REDACTED', start)) {
      const close = text.indexOf(']', start);
      const length = close < 0 ? f.length : close - start + 1;
      spans.push({ start, end: start + length, finding: f });
      shift += length - f.length;
    } else {
      spans.push({ start, end: Math.min(text.length, start + f.length), finding: f });
    }
  }
  return spans;
}
