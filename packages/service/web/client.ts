/**
 * The web page's script (bundled into the page at build time by scripts/bundle-web.mjs; no CDN,
 * no framework). It listens to `/events` and draws what it says. Every string from the service
 * (topics and sources come from the network) goes into the page as text (`textContent`), never as
 * markup.
 */
import type { WebStream, WebSummary } from '../src/web/summary-types.js'

/** Points kept per plot line: 5 minutes at one summary a second. The page keeps nothing else. */
const HISTORY_POINTS = 300
/** After the service turned the page away (503, too many pages) or went away: try again, ms. */
const RECONNECT_MS = 5000
const PLOT_WIDTH = 300
const PLOT_HEIGHT = 60

type Series = { readonly name: string; readonly values: number[] }

const rate = { in: [] as number[], out: [] as number[] }
const loss = { gaps: [] as number[], drops: [] as number[] }
let previous: WebSummary | undefined
let previousFrames = new Map<string, number>()

function byId<T extends Element = HTMLElement>(id: string): T {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`the page has no #${id}`)
  return found as unknown as T
}

/** An element with text content: the only way strings get into the page. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string) {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  if (className !== undefined) node.className = className
  return node
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })
const count = (n: number) => integer.format(n)
const perSecond = (n: number) => decimal.format(n)
/** `42 s`, `12 min`, `3.5 h`, `2.1 d`. */
function uptime(seconds: number): string {
  if (seconds < 120) return `${count(seconds)} s`
  if (seconds < 7200) return `${count(seconds / 60)} min`
  if (seconds < 172_800) return `${decimal.format(seconds / 3600)} h`
  return `${decimal.format(seconds / 86_400)} d`
}

function push(values: number[], value: number) {
  values.push(value)
  if (values.length > HISTORY_POINTS) values.splice(0, values.length - HISTORY_POINTS)
}

function sum(values: Iterable<number>): number {
  let total = 0
  for (const value of values) total += value
  return total
}

const family = (summary: WebSummary, name: string) => summary.counters[name] ?? {}
const single = (summary: WebSummary, name: string) => summary.counters[name]?.['']
const streamKey = (s: WebStream) => JSON.stringify([s.dir, s.topic, s.source])

function plot(svgId: string, peakId: string, series: readonly Series[]) {
  const svg = byId<SVGSVGElement>(svgId)
  const peak = Math.max(1, ...series.flatMap((s) => s.values))
  const step = PLOT_WIDTH / (HISTORY_POINTS - 1)
  const lines = series.map(({ name, values }) => {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')
    line.setAttribute('class', name)
    const offset = HISTORY_POINTS - values.length
    const points = values.map((v, i) => {
      const y = PLOT_HEIGHT - 2 - (v / peak) * (PLOT_HEIGHT - 4)
      return `${((offset + i) * step).toFixed(1)},${y.toFixed(1)}`
    })
    line.setAttribute('points', points.join(' '))
    return line
  })
  svg.replaceChildren(...lines)
  byId(peakId).textContent = `peak ${perSecond(peak)}/s`
}

function card(label: string, value: string, bad = false) {
  const node = el('div', undefined, 'card')
  node.append(el('div', label, 'label'), el('div', value, bad ? 'value flag' : 'value'))
  if (bad) node.classList.add('bad')
  return node
}

/** A titled two-column table, or nothing when there are no rows. */
function group(title: string, rows: readonly (readonly [string, number])[], flagNonZero = false) {
  if (rows.length === 0) return []
  const section = el('section')
  const body = el('tbody')
  for (const [name, value] of rows) {
    const row = el('tr')
    if (flagNonZero && value > 0) row.className = 'bad'
    row.append(el('td', name, 'text'), el('td', count(value), 'n flag'))
    body.append(row)
  }
  const table = el('table')
  table.append(body)
  const scroll = el('div', undefined, 'scroll')
  scroll.append(table)
  section.append(el('h2', title), scroll)
  return [section]
}

/** `{crc: 2}` as rows, largest first; `name` prefixes each label when given. */
function rowsOf(values: Readonly<Record<string, number>>, name = ''): [string, number][] {
  return Object.entries(values)
    .map(([label, value]): [string, number] => [
      name === '' ? label : label === '' ? name : `${name} ${label}`,
      value,
    ])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}

const BACK_PRESSURE = [
  'flow_receivers',
  'flow_receivers_timed_out_total',
  'flow_receivers_left_total',
  'backpressure_waits_total',
  'backpressure_seconds_total',
  'sends_refused_total',
]
const RECEIVING = [
  'streams',
  'sources',
  'stream_evictions_total',
  'sequence_jumps_total',
  'sequence_resyncs_total',
  'heartbeats_total',
  'status_total',
]
const SHOWN_APART = new Set([
  'drops_total',
  'kernel_drops_total',
  'repair_events_total',
  ...BACK_PRESSURE,
  ...RECEIVING,
])

function render(summary: WebSummary) {
  const seconds = previous === undefined ? 0 : (summary.at - previous.at) / 1000
  const frames = new Map<string, number>()
  const rates = new Map<string, number>()
  for (const stream of summary.streams) {
    const key = streamKey(stream)
    frames.set(key, stream.frames)
    const before = previousFrames.get(key)
    if (before !== undefined && seconds > 0) rates.set(key, Math.max(0, stream.frames - before) / seconds)
  }
  const direction = (dir: 'in' | 'out') =>
    sum(summary.streams.filter((s) => s.dir === dir).map((s) => rates.get(streamKey(s)) ?? 0))
  const gaps = sum(summary.streams.map((s) => s.gaps))
  const drops =
    sum(Object.values(family(summary, 'drops_total'))) + (single(summary, 'kernel_drops_total') ?? 0)
  if (previous !== undefined && seconds > 0) {
    const gapsBefore = sum(previous.streams.map((s) => s.gaps))
    const dropsBefore =
      sum(Object.values(family(previous, 'drops_total'))) + (single(previous, 'kernel_drops_total') ?? 0)
    push(rate.in, direction('in'))
    push(rate.out, direction('out'))
    push(loss.gaps, Math.max(0, gaps - gapsBefore) / seconds)
    push(loss.drops, Math.max(0, drops - dropsBefore) / seconds)
  }
  previous = summary
  previousFrames = frames

  const health = summary.health
  const service = typeof health.service === 'string' ? health.service : 'shoal'
  const version = typeof health.version === 'string' ? ` ${health.version}` : ''
  byId('title').textContent = `${service}${version}`
  document.title = `${service} · Shoal`

  const ins = summary.streams.filter((s) => s.dir === 'in')
  const outs = summary.streams.filter((s) => s.dir === 'out')
  const cards: HTMLElement[] = [card('Status', String(health.status ?? '?'), health.status !== 'ready')]
  if (typeof health.uptimeSeconds === 'number') cards.push(card('Uptime', uptime(health.uptimeSeconds)))
  if (ins.length > 0 || outs.length === 0) cards.push(card('Frames in/s', perSecond(direction('in'))))
  if (outs.length > 0) cards.push(card('Frames out/s', perSecond(direction('out'))))
  const topics = new Set(summary.streams.filter((s) => s.topic !== '*').map((s) => s.topic))
  cards.push(card('Topics', count(topics.size)))
  const sources = family(summary, 'sources')
  if (sources.alive !== undefined) cards.push(card('Sources alive', count(sources.alive)))
  if ((sources.gone ?? 0) > 0) cards.push(card('Sources gone', count(sources.gone ?? 0), true))
  if (ins.length > 0) cards.push(card('Gaps', count(gaps), gaps > 0))
  cards.push(card('Drops', count(drops), drops > 0))
  const repaired = family(summary, 'repair_events_total').fragments_repaired
  if (repaired !== undefined) cards.push(card('Repaired', count(repaired)))
  const waits = single(summary, 'backpressure_waits_total')
  if (outs.length > 0 && waits !== undefined) cards.push(card('Back-pressure waits', count(waits), waits > 0))
  // the relay says how many routes it has when ready (on /healthz)
  for (const [key, label] of [
    ['inputs', 'Inputs'],
    ['outputs', 'Outputs'],
  ] as const) {
    const routes = health[key]
    if (typeof routes === 'number') cards.push(card(label, count(routes)))
  }
  const relayed = single(summary, 'relay_forwarded_total')
  if (relayed !== undefined) cards.push(card('Relayed', count(relayed)))
  byId('cards').replaceChildren(...cards)

  plot('plot-rate', 'rate-peak', [
    { name: 'in', values: rate.in },
    { name: 'out', values: rate.out },
  ])
  plot('plot-loss', 'loss-peak', [
    { name: 'gaps', values: loss.gaps },
    { name: 'drops', values: loss.drops },
  ])

  const rows = [...summary.streams].sort(
    (a, b) =>
      a.dir.localeCompare(b.dir) || a.topic.localeCompare(b.topic) || a.source.localeCompare(b.source),
  )
  byId('streams').hidden = rows.length === 0
  byId('streams-body').replaceChildren(
    ...rows.map((stream) => {
      const row = el('tr')
      if (stream.gaps > 0) row.className = 'bad'
      const r = rates.get(streamKey(stream))
      row.append(
        el('td', stream.topic, 'text'),
        el('td', stream.source, 'text'),
        el('td', stream.dir),
        el('td', count(stream.frames), 'n'),
        el('td', r === undefined ? '–' : perSecond(r), 'n'),
        el('td', stream.dir === 'in' ? count(stream.gaps) : '–', 'n flag'),
        el('td', stream.dir === 'in' ? count(stream.duplicates) : '–', 'n'),
        el('td', stream.dir === 'in' ? count(stream.reordered) : '–', 'n'),
      )
      row.title = `${stream.topic} from ${stream.source}`
      return row
    }),
  )

  const kernel = single(summary, 'kernel_drops_total')
  const pick = (names: readonly string[]) =>
    names.flatMap((name) => rowsOf(family(summary, name), name.replace(/_total$/, '')))
  const backPressure = pick(BACK_PRESSURE)
  const rest = Object.keys(summary.counters)
    .filter((name) => !SHOWN_APART.has(name))
    .sort()
  byId('groups').replaceChildren(
    ...group(
      'Drops by reason',
      [
        ...rowsOf(family(summary, 'drops_total')),
        ...(kernel === undefined ? [] : [['kernel (buffer full)', kernel] as [string, number]]),
      ],
      true,
    ),
    ...group('Repairs', rowsOf(family(summary, 'repair_events_total'))),
    // a receiver registers these too, always 0: shown where something is sent, or not 0
    ...group('Back-pressure', outs.length > 0 || backPressure.some(([, v]) => v > 0) ? backPressure : []),
    ...group('Sources and streams', pick(RECEIVING)),
    ...group('Relay', pick(rest.filter((name) => name.startsWith('relay_')))),
    ...group('Datagrams', pick(rest.filter((name) => !name.startsWith('relay_')))),
  )
  const note = byId('note')
  note.hidden = !summary.truncated
  note.textContent = summary.truncated ? 'Some series were left out: more than the page takes at once.' : ''
}

function setState(state: 'connecting' | 'live' | 'lost', text: string) {
  const badge = byId('state')
  badge.dataset.state = state
  badge.textContent = text
}

function connect() {
  const source = new EventSource('/events')
  source.addEventListener('open', () => setState('live', 'live'))
  source.addEventListener('summary', (event) => {
    render(JSON.parse((event as MessageEvent<string>).data) as WebSummary)
    setState('live', 'live')
  })
  source.addEventListener('failure', (event) => {
    setState('lost', `service error: ${String(JSON.parse((event as MessageEvent<string>).data))}`)
  })
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // Refused (too many pages) or not an event stream: EventSource gives up; try again later.
      setState('lost', 'disconnected, retrying')
      setTimeout(connect, RECONNECT_MS)
    } else setState('connecting', 'reconnecting…')
  })
}

connect()
