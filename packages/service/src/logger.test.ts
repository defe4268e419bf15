import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'
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

  it('writes readable lines, synchronously, on a TTY', () => {
    const sink = new MemorySink(true)
    const logger = createLogger({ name: 'shoal-test', destination: sink, colorize: false })
    logger.info({ port: 7400 }, 'bound')
    // No await: the pretty formatter runs in the write call, not on a worker thread.
    expect(sink.text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: bound\n {4}port: 7400\n$/)
    expect(sink.text).not.toContain('{"level"')
  })

  it('can be forced either way', () => {
    const pretty = new MemorySink(false)
    createLogger({ name: 'n', destination: pretty, pretty: true, colorize: false }).info('hello')
    expect(pretty.text).toContain('INFO: hello')
    const json = new MemorySink(true)
    createLogger({ name: 'n', destination: json, pretty: false }).info('hello')
    expect(json.json()[0]).toMatchObject({ msg: 'hello' })
  })
})
