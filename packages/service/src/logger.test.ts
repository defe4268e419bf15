import { describe, expect, it } from 'vitest'
import { CONTROL_CHARACTER } from './control-chars.js'
import { createLogger, isTerseTerminal } from './logger.js'
import { MemorySink } from './testing/memory-sink.js'

describe('createLogger', () => {
  it('writes one JSON object per line when the destination is not a TTY', () => {
    const sink = new MemorySink(false)
    const logger = createLogger({ name: 'shoal-test', destination: sink })
    logger.info({ port: 7400 }, 'bound')
    logger.debug('hidden at info')
    const [record, ...rest] = sink.json()
    expect(rest).toEqual([])
    expect(record).toMatchObject({ name: 'shoal-test', port: 7400, msg: 'bound', level: 30 })
  })

  it('honours the level', () => {
    const sink = new MemorySink(false)
    const logger = createLogger({ name: 'shoal-test', level: 'warn', destination: sink })
    logger.info('no')
    logger.warn('yes')
    expect(sink.json().map((r) => r.msg)).toEqual(['yes'])
    const silent = new MemorySink(false)
    createLogger({ name: 'shoal-test', level: 'silent', destination: silent }).fatal('nothing')
    expect(silent.text).toBe('')
  })

  it('writes readable lines, synchronously, on a TTY: terse at info, every field at debug', () => {
    const sink = new MemorySink(true)
    const logger = createLogger({ name: 'shoal-test', destination: sink, colorize: false })
    logger.info({ port: 7400 }, 'bound')
    // No await: the pretty formatter runs in the write call, not on a worker thread.
    // At the default level an info record is its message: one line.
    expect(sink.text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: bound\n$/)
    expect(sink.text).not.toContain('{"level"')
    sink.text = ''
    logger.warn({ requested: 8, granted: 4 }, 'clamped')
    expect(sink.text).toMatch(/^\[[\d:.]+\] WARN: clamped\n$/)
    sink.text = ''
    logger.error({ code: 'EADDRINUSE', err: new Error('bind') }, 'failed')
    // An error keeps its fields, on the same line, and its stack.
    expect(sink.text).toMatch(
      /^\[[\d:.]+\] ERROR: failed \{"code":"EADDRINUSE"\}\n[\s\S]*Error: bind\n\s+at /,
    )

    const verbose = new MemorySink(true)
    createLogger({ name: 'shoal-test', level: 'debug', destination: verbose, colorize: false }).info(
      { port: 7400 },
      'bound',
    )
    expect(verbose.text).toMatch(/^\[[\d:.]+\] INFO: bound\n {4}port: 7400\n$/)
  })

  it('is terse only on a terminal above debug', () => {
    expect(isTerseTerminal({ destination: new MemorySink(true), level: 'info' })).toBe(true)
    expect(isTerseTerminal({ destination: new MemorySink(true), level: 'warn' })).toBe(true)
    expect(isTerseTerminal({ destination: new MemorySink(true), level: 'debug' })).toBe(false)
    expect(isTerseTerminal({ destination: new MemorySink(false), level: 'info' })).toBe(false)
    // JSON lines keep every field at every level
    const json = new MemorySink(false)
    createLogger({ name: 'n', destination: json }).info({ port: 7400 }, 'bound')
    expect(json.json()[0]).toMatchObject({ port: 7400, msg: 'bound' })
  })

  it('can be forced either way', () => {
    const pretty = new MemorySink(false)
    createLogger({ name: 'n', destination: pretty, pretty: true, colorize: false }).info('hello')
    expect(pretty.text).toContain('INFO: hello')
    const json = new MemorySink(true)
    createLogger({ name: 'n', destination: json, pretty: false }).info('hello')
    expect(json.json()[0]).toMatchObject({ msg: 'hello' })
  })

  const hostile = 'rx\u001b[2J\u001b]0;title\u0007\u009b\u202e\u0085'

  it('writes no control character raw in JSON lines, which parse back to what was logged', () => {
    const sink = new MemorySink(false)
    createLogger({ name: 'n', destination: sink }).warn({ receiver: hostile, [hostile]: [hostile] }, hostile)
    expect(sink.text.replace(/\n$/, '')).not.toMatch(CONTROL_CHARACTER)
    expect(sink.json()[0]).toMatchObject({ msg: hostile, receiver: hostile, [hostile]: [hostile] })
  })

  it('escapes control characters in every string of a readable line, keeping the lines of a stack', () => {
    const sink = new MemorySink(true)
    const error = new Error(`bad ${hostile}`)
    createLogger({ name: 'n', destination: sink, colorize: false, level: 'debug' }).warn(
      { receiver: hostile, nested: { list: [hostile] }, err: error },
      `${hostile} did not answer`,
    )
    expect(sink.text.replaceAll('\n', '').replaceAll('    ', '')).not.toMatch(CONTROL_CHARACTER)
    expect(sink.text).toContain('WARN: rx\\x1b[2J\\x1b]0;title\\x07\\x9b\\u202e\\x85 did not answer')
    expect(sink.text).toMatch(/receiver: "rx\\x1b\[2J/)
    expect(sink.text).toMatch(/Error: bad rx\\x1b\[2J.*\n\s+at /)
  })
})
