import { Heartbeat, Image, Scalar, Temperature } from '@shoal/schema'
import { MemorySink } from '@shoal/service/testing'
import { emptyRepairStats, type ReceivedFrame, type RepairStats, type StatsSnapshot } from '@shoal/transport'
import { describe, expect, it } from 'vitest'
import { LineWriter } from './line-writer.js'
import {
  MAX_VIEW_STREAMS,
  PRETTY_LINE_INTERVAL_MS,
  PrettyOutput,
  VIEW_STREAM_IDLE_MS,
} from './output-pretty.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))
const ESC = '\u001b'

function frame(sequence: number, celsius: number): ReceivedFrame {
  const payload = Temperature.encode(Temperature.create({ celsius }))
  return {
    topic: 'temperature',
    typeName: Temperature.typeName,
    fingerprint: Temperature.fingerprint,
    message: Temperature.decode(payload),
    payload,
    source: { sessionId: 0xa1b2c3d4, session: 'a1b2c3d4', address: '127.0.0.1', port: 40000 },
    sequence,
    hops: 0,
    ackRequested: false,
    receivedAt: Date.now(),
  }
}

const emptyRepair: RepairStats = emptyRepairStats()

function setup(tty: boolean, columns = 100, sourceId?: (session: string) => string | undefined) {
  const sink = new MemorySink(tty)
  let now = 1_000_000
  let frames = 0
  const stats = (): StatsSnapshot => ({
    sent: [],
    received:
      frames === 0
        ? []
        : [
            {
              source: 'a1b2c3d4',
              address: '127.0.0.1:40000',
              topic: 'temperature',
              frames,
              bytes: frames * 9,
              datagrams: frames,
              gaps: 1,
              duplicates: 0,
              reordered: 0,
              jumps: 0,
              resyncs: 0,
              drops: {},
            },
          ],
    drops: frames === 0 ? {} : { 'bad-crc': 2 },
    repair: emptyRepair,
    datagramsIn: frames,
    datagramsOut: 0,
    bytesIn: frames * 50,
    bytesOut: 0,
  })
  const view = new PrettyOutput(new LineWriter(sink), {
    full: false,
    tty,
    columns: () => columns,
    stats,
    now: () => now,
    ...(sourceId === undefined ? {} : { sourceId }),
  })
  const receive = (n: number) => {
    for (let i = 0; i < n; i++) view.frame(frame(frames++, 20 + frames))
  }
  return { sink, view, receive, advance: (ms: number) => (now += ms) }
}

describe('PrettyOutput on a terminal', () => {
  it('shows one line per stream per interval, saying how many frames it did not show', async () => {
    const { sink, view, receive, advance } = setup(true)
    receive(10)
    await turn()
    advance(PRETTY_LINE_INTERVAL_MS)
    receive(1)
    await turn()
    const frameLines = sink.text.split('\n').filter((line) => / temperature {2}a1b2c3d4 #/.test(line))
    expect(frameLines).toHaveLength(2)
    expect(frameLines[0]).toMatch(/ temperature {2}a1b2c3d4 #0 {2}21\.00 °C$/)
    expect(frameLines[1]).toMatch(/ temperature {2}a1b2c3d4 #10 {2}31\.00 °C {2}\(\+9\)$/)
    expect(sink.text).toContain('One line per frame, at most one per stream every 250 ms')
    await view.close()
  })

  it('redraws the stats block in place: up over the old block, clear, new lines, block again', async () => {
    const { sink, view, receive, advance } = setup(true)
    view.tick()
    await turn()
    expect(sink.text).toBe(
      'source    topic               rate/s     frames    gaps   dups  drops\nno frames yet (0 datagrams)\n',
    )
    sink.text = ''
    receive(5)
    advance(500)
    view.tick()
    await turn()
    const [erase, rest] = [sink.text.slice(0, 7), sink.text.slice(7)]
    expect(erase).toBe(`${ESC}[2F${ESC}[J`)
    expect(rest.split('\n')).toEqual([
      'One line per frame, at most one per stream every 250 ms; (+n): frames not shown before it.',
      expect.stringMatching(/ temperature {2}a1b2c3d4 #0 {2}21\.00 °C$/),
      'source    topic               rate/s     frames    gaps   dups  drops',
      'a1b2c3d4  temperature           10.0          5       1      0      0',
      'dropped: bad-crc 2',
      '',
    ])
    sink.text = ''
    view.stepAside() // a log line is about to be written to the same terminal
    expect(sink.text).toBe(`${ESC}[3F${ESC}[J`)
    await turn()
    expect(sink.text.split('\n')).toHaveLength(4) // the block came back below
    await view.close()
  })

  it('shows each session’s source id beside it, in frame lines and the stats block', async () => {
    const ids: Record<string, string> = { a1b2c3d4: 'thermo-7' }
    const { sink, view, receive, advance } = setup(true, 100, (session) => ids[session])
    receive(1)
    advance(500)
    view.tick()
    await turn()
    const lines = sink.text.split('\n')
    expect(lines).toContainEqual(expect.stringMatching(/ temperature {2}a1b2c3d4 thermo-7 #0 {2}21\.00 °C$/))
    expect(lines).toContain(
      'source    source id     topic               rate/s     frames    gaps   dups  drops',
    )
    expect(lines).toContainEqual(expect.stringMatching(/^a1b2c3d4 {2}thermo-7 {6}temperature +[\d.]+ +1 /))
    await view.close()
  })

  it('measures a slow stream over a window, so a 1 Hz stream reads 1.0/s on every tick', async () => {
    const { sink, view, receive, advance } = setup(true)
    const rates: string[] = []
    for (let t = 0; t < 20; t++) {
      if (t % 2 === 0) receive(1) // one frame a second, ticks every 500 ms
      advance(500)
      sink.text = ''
      view.tick()
      await turn()
      const row = sink.text.split('\n').find((line) => line.startsWith('a1b2c3d4'))
      if (t >= 10 && row !== undefined) rates.push(row.split(/ +/)[2]!)
    }
    expect(rates.length).toBeGreaterThan(5)
    for (const rate of rates) expect(Number(rate)).toBeCloseTo(1, 0)
    await view.close()
  })

  it('cuts lines to the terminal width, so that it can count them', async () => {
    const { sink, view, receive } = setup(true, 30)
    receive(1)
    await turn()
    for (const line of sink.text.split('\n')) expect(line.length).toBeLessThanOrEqual(29)
    expect(sink.text).toContain('…')
    await view.close()
  })
})

describe('PrettyOutput elsewhere', () => {
  it('never moves the cursor, and prints the stats block on ticks once anything arrived', async () => {
    const { sink, view, receive, advance } = setup(false)
    view.tick()
    await turn()
    expect(sink.text).toBe('')
    receive(3)
    advance(1000)
    view.tick()
    await turn()
    await view.close()
    expect(sink.text).not.toContain(ESC)
    expect(sink.text.match(/^a1b2c3d4 {2}temperature +3\.0 +3 +1 +0 +0$/m)).not.toBeNull()
    // The final block, at close.
    expect(sink.text.trimEnd().split('\n').at(-1)).toBe('dropped: bad-crc 2')
  })
})

describe('PrettyOutput and text from the network', () => {
  const CLEAR = '\u001b[2J'
  const TITLE = '\u001b]0;title\u0007'
  /** What a terminal would act on: C0 but the line feed, DEL, C1, bidirectional formatting. */
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
  const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/

  const MESSAGES = [
    [Scalar, Scalar.create({ value: 1, unit: CLEAR, quantity: `${TITLE}\u009b1m` })],
    [Heartbeat, Heartbeat.create({ state: 2, detail: `${TITLE}ok\u202e` })],
    [Image, Image.create({ width: 2, height: 1, encoding: `\u0085rgb8${CLEAR}`, data: new Uint8Array(6) })],
  ] as const

  function hostile(sequence: number): ReceivedFrame {
    const [type, message] = MESSAGES[sequence]!
    const payload = (type.encode as (m: unknown) => Uint8Array)(message)
    return {
      topic: `room/${CLEAR}${TITLE}\u202e`,
      typeName: type.typeName,
      fingerprint: type.fingerprint,
      message: type.decode(payload),
      payload,
      source: { sessionId: 0xa1b2c3d4, session: 'a1b2c3d4', address: '127.0.0.1', port: 40000 },
      sequence,
      hops: 0,
      ackRequested: false,
      receivedAt: Date.now(),
    }
  }

  it.each([true, false])(
    'shows topics and string fields escaped (terminal: %s), in frame lines and the stats block',
    async (tty) => {
      const sink = new MemorySink(tty)
      let now = 0
      const frames = [hostile(0), hostile(1), hostile(2)]
      const view = new PrettyOutput(new LineWriter(sink), {
        full: false,
        tty,
        columns: () => 300,
        now: () => now,
        stats: () => ({
          sent: [],
          received: [
            {
              source: `a1b2c3d4${CLEAR}`,
              address: '127.0.0.1:40000',
              topic: frames[0]!.topic,
              frames: 3,
              bytes: 30,
              datagrams: 3,
              gaps: 0,
              duplicates: 0,
              reordered: 0,
              jumps: 0,
              resyncs: 0,
              drops: {},
            },
          ],
          drops: {},
          repair: emptyRepair,
          datagramsIn: 3,
          datagramsOut: 0,
          bytesIn: 90,
          bytesOut: 0,
        }),
      })
      for (const frame of frames) {
        view.frame(frame)
        now += PRETTY_LINE_INTERVAL_MS
      }
      view.raw({
        data: Buffer.from(`${CLEAR}raw${TITLE}`),
        from: { address: '127.0.0.1', port: 1 },
        receivedAt: 0,
      })
      view.tick()
      await turn()
      await view.close()
      // A terminal view moves the cursor itself (up n lines, clear below): nothing else.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the view's own sequences
      const shown = sink.text.replace(/\u001b\[\d+F\u001b\[J/g, '')
      expect(shown).not.toMatch(RAW_CONTROL)
      expect(shown).toContain(
        'room/\\x1b[2J\\x1b]0;title\\x07\\u202e  a1b2c3d4 #0  1.000 \\x1b[2J (\\x1b]0;title\\x07\\x9b1m)',
      )
      expect(shown).toContain('#1  OK  up 0.0 s  \\x1b]0;title\\x07ok\\u202e')
      expect(shown).toContain('#2  2×1 \\x85rgb8\\x1b[2J  6 bytes')
      expect(shown).toContain(`hex ${Buffer.from(`${CLEAR}raw${TITLE}`).toString('hex')}`)
      expect(shown).toMatch(/^a1b2c3d4\\x1b\[2J {2}room\/\\x1b\[2J\\x1b\]0;title\\x07\\u202e +[\d.]+ +3 /m)
    },
  )
})

describe('PrettyOutput tables', () => {
  const stream = (i: number, frames: number): StatsSnapshot['received'][number] => ({
    source: (0x10000000 + i).toString(16),
    address: '127.0.0.1:40000',
    topic: `t/${String(i).padStart(6, '0')}`,
    frames,
    bytes: frames,
    datagrams: frames,
    gaps: 0,
    duplicates: 0,
    reordered: 0,
    jumps: 0,
    resyncs: 0,
    drops: {},
  })

  function view(received: () => StatsSnapshot['received']) {
    const sink = new MemorySink(false)
    let now = 0
    const output = new PrettyOutput(new LineWriter(sink), {
      full: false,
      tty: false,
      columns: () => 200,
      now: () => now,
      stats: () => ({
        sent: [],
        received: received(),
        drops: {},
        repair: emptyRepair,
        datagramsIn: 1,
        datagramsOut: 0,
        bytesIn: 1,
        bytesOut: 0,
      }),
    })
    return { sink, output, advance: (ms: number) => (now += ms) }
  }

  const onTopic = (topic: string, session: string, sequence = 0): ReceivedFrame => ({
    ...frame(sequence, 20),
    topic,
    source: { sessionId: Number.parseInt(session, 16), session, address: '127.0.0.1', port: 1 },
  })

  it(`keeps line sampling for at most ${MAX_VIEW_STREAMS} streams, forgetting the least recently seen, and says so`, async () => {
    const { sink, output } = view(() => [])
    for (let i = 0; i < 5 * MAX_VIEW_STREAMS; i++) output.frame(onTopic(`flood/${i}`, 'deadbeef'))
    expect(output.tableSizes.samplers).toBe(MAX_VIEW_STREAMS)
    expect(output.evictedStreams).toBe(4 * MAX_VIEW_STREAMS)
    output.frame(onTopic('flood/0', 'deadbeef')) // forgotten: shown again at once
    await output.close()
    expect(sink.text.split('\n').filter((line) => line.includes(' flood/0 '))).toHaveLength(2)
    expect(sink.text).toContain(
      `view: over ${MAX_VIEW_STREAMS} streams at once; ${4 * MAX_VIEW_STREAMS + 1} forgotten`,
    )
  })

  it('forgets a stream idle for VIEW_STREAM_IDLE_MS, and the frames it did not show with it', async () => {
    const { sink, output, advance } = view(() => [])
    output.frame(onTopic('quiet', 'a1b2c3d4', 0))
    output.frame(onTopic('busy', 'a1b2c3d4', 0))
    output.frame(onTopic('quiet', 'a1b2c3d4', 1)) // not shown: within the line interval
    advance(VIEW_STREAM_IDLE_MS - 1)
    output.frame(onTopic('busy', 'a1b2c3d4', 1))
    advance(1)
    output.tick()
    expect(output.tableSizes.samplers).toBe(1)
    expect(output.evictedStreams).toBe(0) // idle is not evicted
    output.frame(onTopic('quiet', 'a1b2c3d4', 2))
    await output.close()
    expect(sink.text).toMatch(/ quiet {2}a1b2c3d4 #2 {2}20\.00 °C\n/) // no (+1): that count went with it
  })

  it(`measures rates for the first ${MAX_VIEW_STREAMS} streams of the block, and drops those gone from the stats`, async () => {
    let received = Array.from({ length: 3 * MAX_VIEW_STREAMS }, (_, i) => stream(i, 0))
    const { sink, output, advance } = view(() => received)
    output.tick()
    expect(output.tableSizes.rates).toBe(MAX_VIEW_STREAMS)
    advance(1000)
    received = received.slice(0, 10).map((s) => ({ ...s, frames: 50 }))
    output.tick()
    expect(output.tableSizes.rates).toBe(10)
    await output.close()
    expect(sink.text).toMatch(/^10000000 {2}t\/000000 +50\.0 +50 /m)
  })
})
