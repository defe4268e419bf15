import { EventEmitter } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { commonFlags, keyFlags } from './common-flags.js'
import { CONTROL_CHARACTER } from './control-chars.js'
import { conflict } from './errors.js'
import { defineFlags, flag } from './flags.js'
import {
  formatSummary,
  runService,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceHandle,
} from './run-service.js'
import { MemorySink } from './testing/memory-sink.js'
import { parsePrometheusText, sampleValue } from './testing/prom-text.js'
import { text } from './validators.js'

const flags = defineFlags({
  name: flag.value(text(), { placeholder: 'name', default: 'rx', help: 'A name' }),
  ...commonFlags,
})

type Values = ServiceContext<{ name: string }>

interface Harness {
  stdout: MemorySink
  stderr: MemorySink
  events: EventEmitter
  exit: ReturnType<typeof vi.fn>
  code: Promise<number>
}

function harness(
  start: ServiceDefinition<typeof flags, { name: string }>['start'],
  argv: readonly string[] = [],
  extra: {
    resolve?: ServiceDefinition<typeof flags, { name: string }>['resolve']
    stopTimeoutMs?: number
  } = {},
): Harness {
  const stdout = new MemorySink()
  const stderr = new MemorySink()
  const events = new EventEmitter()
  const exit = vi.fn()
  const code = runService(
    {
      name: 'shoal-test',
      version: '1.2.3',
      description: 'A test service.',
      flags,
      resolve: extra.resolve ?? ((values) => ({ name: values.name })),
      start,
    },
    { argv, env: {}, stdout, stderr, events, exit, stopTimeoutMs: extra.stopTimeoutMs ?? 1000 },
  )
  return { stdout, stderr, events, exit, code }
}

function idle(onStop: () => Promise<void> = async () => {}): (ctx: Values) => ServiceHandle {
  return () => ({ stop: onStop, summary: () => ({ frames: 3 }) })
}

/** Waits until the service has started and is listening for signals. */
async function started(h: Harness, pattern = /"msg":"started"/) {
  await vi.waitFor(() => expect(h.stderr.text).toMatch(pattern), { timeout: 5000, interval: 5 })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('runService: configuration', () => {
  it('prints help to stdout and exits 0', async () => {
    const h = harness(idle(), ['--help'])
    expect(await h.code).toBe(0)
    expect(h.exit).toHaveBeenCalledWith(0)
    expect(h.stdout.text).toMatch(/^Usage: shoal-test \[options\]\n\nA test service\.\n/)
    expect(h.stdout.text).toContain('--name <name>')
    expect(h.stderr.text).toBe('')
  })

  it('prints the version', async () => {
    const h = harness(idle(), ['--version'])
    expect(await h.code).toBe(0)
    expect(h.stdout.text).toBe('shoal-test 1.2.3\n')
  })

  it.each([
    [['--port', '70000'], 'shoal-test: invalid --port 70000: expected an integer 1-65535'],
    [['--nope'], 'shoal-test: unknown flag --nope'],
    [['--interface', 'nosuch0'], 'shoal-test: invalid --interface nosuch0: no such interface'],
    [['--config', '/nonexistent.json'], 'shoal-test: cannot read --config /nonexistent.json'],
  ])('%j exits 2 with a message on stderr', async (argv, message) => {
    const start = vi.fn(idle())
    const h = harness(start, argv)
    expect(await h.code).toBe(2)
    expect(h.exit).toHaveBeenCalledExactlyOnceWith(2)
    expect(h.stderr.text.startsWith(message)).toBe(true)
    expect(h.stderr.text).toContain("Try 'shoal-test --help'")
    expect(start).not.toHaveBeenCalled()
  })

  it('exits 2 when resolve rejects a combination', async () => {
    const h = harness(idle(), ['--name', 'bad'], {
      resolve: () => {
        throw conflict('--name', '--name bad needs --http')
      },
    })
    expect(await h.code).toBe(2)
    expect(h.stderr.text).toMatch(/^shoal-test: --name bad needs --http\n/)
  })
})

describe('runService: lifecycle', () => {
  it('passes the resolved config, stops on SIGTERM, prints the summary and exits 0', async () => {
    let context: Values | undefined
    const stop = vi.fn(async () => {})
    const h = harness(
      (ctx) => {
        context = ctx
        ctx.logger.info('started')
        return { stop, summary: () => ({ frames: 3, note: 'two words' }) }
      },
      ['--name', 'alpha'],
    )
    await started(h)
    expect(context?.config).toEqual({ name: 'alpha' })
    expect(context?.signal.aborted).toBe(false)

    h.events.emit('SIGTERM')
    expect(context?.signal.aborted).toBe(true)
    expect(await h.code).toBe(0)
    expect(stop).toHaveBeenCalledOnce()
    expect(h.exit).toHaveBeenCalledExactlyOnceWith(0)
    const stopped = h.stderr.json().find((record) => record.msg === 'stopped')
    expect(stopped).toMatchObject({ reason: 'SIGTERM', summary: { frames: 3, note: 'two words' } })
    expect(h.stderr.lines().at(-1)).toMatch(
      /^shoal-test: stopped \(SIGTERM\) after \d+\.\ds: frames=3 note="two words"$/,
    )
    expect(h.events.listenerCount('SIGTERM')).toBe(0)
  })

  it('prints no control character that came from the network, in the summary or the log', async () => {
    const hostile = '\u001b[2J\u001b]0;title\u0007\u009b\u202e'
    const h = harness((ctx) => {
      ctx.logger.warn({ topic: hostile }, `receiver ${hostile} did not answer`)
      return { stop: async () => {}, summary: () => ({ topics: { [hostile]: 1 }, acked: `${hostile}:1` }) }
    })
    await started(h, /did not answer/)
    h.events.emit('SIGTERM')
    expect(await h.code).toBe(0)
    expect(h.stderr.text.replaceAll('\n', '')).not.toMatch(CONTROL_CHARACTER)
    expect(h.stderr.lines().at(-1)).toMatch(
      /: topics=\{"\\u001b\[2J\\u001b\]0;title\\u0007\\x9b\\u202e":1\} acked=\\x1b\[2J\\x1b\]0;title\\x07\\x9b\\u202e:1$/,
    )
    // The JSON records parse back to what was logged.
    expect(h.stderr.json().find((record) => record.level === 40)).toMatchObject({ topic: hostile })
  })

  it('aborts the signal before stop is called, so input stops first', async () => {
    const order: string[] = []
    const h = harness((ctx) => {
      ctx.signal.addEventListener('abort', () => order.push('abort'))
      ctx.logger.info('started')
      return {
        stop: async () => {
          order.push('stop')
        },
        summary: () => 'done',
      }
    })
    await started(h)
    h.events.emit('SIGINT')
    expect(await h.code).toBe(0)
    expect(order).toEqual(['abort', 'stop'])
  })

  it('exits 1 with a message when stop outlives the deadline', async () => {
    const h = harness(
      (ctx) => {
        ctx.logger.info('started')
        return { stop: () => new Promise(() => {}), summary: () => 'never' }
      },
      [],
      { stopTimeoutMs: 50 },
    )
    await started(h)
    h.events.emit('SIGTERM')
    expect(await h.code).toBe(1)
    expect(h.exit).toHaveBeenCalledExactlyOnceWith(1)
    expect(h.stderr.text).toContain('shoal-test: stop did not finish within 50 ms; exiting')
  })

  it('exits 1 at once on a second signal', async () => {
    const h = harness(
      (ctx) => {
        ctx.logger.info('started')
        return { stop: () => new Promise(() => {}), summary: () => 'never' }
      },
      [],
      { stopTimeoutMs: 10_000 },
    )
    await started(h)
    h.events.emit('SIGINT')
    h.events.emit('SIGINT')
    expect(await h.code).toBe(1)
    expect(h.stderr.text).toContain('shoal-test: SIGINT again; exiting now')
  })

  it('shutdown() finishes normally with exit 0', async () => {
    const h = harness((ctx) => {
      setImmediate(() => ctx.shutdown('count reached'))
      return { stop: async () => {}, summary: () => 'sent 10 frames' }
    })
    expect(await h.code).toBe(0)
    expect(h.stderr.lines().at(-1)).toMatch(
      /^shoal-test: stopped \(count reached\) after .*: sent 10 frames$/,
    )
  })

  it('a verdict after a clean stop sets the exit code and is said after the summary', async () => {
    const h = harness((ctx) => {
      setImmediate(() => ctx.shutdown('count reached'))
      return {
        stop: async () => {},
        summary: () => 'sent 10 frames',
        verdict: () => ({ code: 3, message: 'rx-2 never acknowledged (10 frames)' }),
      }
    })
    expect(await h.code).toBe(3)
    expect(h.exit).toHaveBeenCalledExactlyOnceWith(3)
    const plain = h.stderr.lines().filter((line) => !line.startsWith('{'))
    expect(plain.slice(-2)).toEqual([
      expect.stringMatching(/^shoal-test: stopped \(count reached\) after .*: sent 10 frames$/),
      'shoal-test: error: rx-2 never acknowledged (10 frames)',
    ])
    expect(h.stderr.json().find((record) => record.level === 50)).toMatchObject({
      exitCode: 3,
      msg: 'rx-2 never acknowledged (10 frames)',
    })
  })

  it('no verdict leaves the exit code alone', async () => {
    const h = harness((ctx) => {
      setImmediate(() => ctx.shutdown('count reached'))
      return { stop: async () => {}, summary: () => 'ok', verdict: () => undefined }
    })
    expect(await h.code).toBe(0)
  })

  it('exits 1 when start throws, without calling stop', async () => {
    const h = harness(() => {
      throw new Error('cannot bind')
    })
    expect(await h.code).toBe(1)
    expect(h.stderr.text).toContain('shoal-test: failed to start: cannot bind')
    expect(h.stderr.json().some((record) => record.msg === 'failed to start')).toBe(true)
  })

  it('fail() logs, stops and exits 1', async () => {
    const stop = vi.fn(async () => {})
    const h = harness((ctx) => {
      setImmediate(() => ctx.fail(new Error('socket closed')))
      return { stop, summary: () => ({}) }
    })
    expect(await h.code).toBe(1)
    expect(stop).toHaveBeenCalledOnce()
    expect(h.stderr.text).toContain('shoal-test: error: socket closed')
    expect(h.stderr.lines().at(-1)).toMatch(/stopped \(error\) after .*: nothing to report$/)
  })

  it('treats an uncaught exception as a failure', async () => {
    const h = harness((ctx) => {
      ctx.logger.info('started')
      return { stop: async () => {}, summary: () => 'x' }
    })
    await started(h)
    h.events.emit('uncaughtException', new Error('boom'))
    expect(await h.code).toBe(1)
    expect(h.stderr.text).toContain('shoal-test: error: boom')
  })

  it('exits 1 when stop rejects', async () => {
    const h = harness((ctx) => {
      setImmediate(() => ctx.shutdown('done'))
      return {
        stop: async () => {
          throw new Error('flush failed')
        },
        summary: () => 'x',
      }
    })
    expect(await h.code).toBe(1)
    expect(h.stderr.text).toContain('shoal-test: stop failed: flush failed')
  })

  it('stops once the start in progress finishes when a signal comes first', async () => {
    let finishStart!: () => void
    const stop = vi.fn(async () => {})
    const h = harness(async (ctx) => {
      ctx.logger.info('started')
      await new Promise<void>((resolve) => {
        finishStart = resolve
      })
      return { stop, summary: () => 'late' }
    })
    await started(h)
    h.events.emit('SIGTERM')
    finishStart()
    expect(await h.code).toBe(0)
    expect(stop).toHaveBeenCalledOnce()
  })
})

describe('runService: metrics and health', () => {
  it('serves /healthz 503 then 200 once ready, and /metrics, on loopback', async () => {
    let context: Values | undefined
    const h = harness(
      (ctx) => {
        context = ctx
        return { stop: async () => {}, summary: () => 'x' }
      },
      ['--http', '0', '--http-host', '127.0.0.1'],
    )
    const [, url] = (await vi.waitFor(
      () => {
        const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(h.stderr.text)
        expect(match).not.toBeNull()
        return match!
      },
      { timeout: 5000, interval: 5 },
    )) as RegExpExecArray
    await vi.waitFor(() => expect(context).toBeDefined(), { timeout: 5000, interval: 5 })

    expect((await fetch(`${url}/healthz`)).status).toBe(503)
    context!.ready({ groups: 1 })
    const ready = await fetch(`${url}/healthz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', service: 'shoal-test', groups: 1 })

    const families = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
    expect(sampleValue(families, 'shoal_build_info', { service: 'shoal-test', version: '1.2.3' })).toBe(1)
    expect(families.has('process_cpu_user_seconds_total')).toBe(true)

    h.events.emit('SIGTERM')
    expect(await h.code).toBe(0)
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })

  it('exits 1 when the metrics port cannot be bound', async () => {
    const { createServer } = await import('node:net')
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const start = vi.fn(idle())
      const h = harness(start, ['--http', String(port)])
      expect(await h.code).toBe(1)
      expect(h.stderr.text).toContain('failed to start')
      expect(start).not.toHaveBeenCalled()
    } finally {
      blocker.close()
    }
  })
})

describe('formatSummary', () => {
  it.each([
    ['sent 3 frames', 'sent 3 frames'],
    [{ frames: 3, bytes: 30 }, 'frames=3 bytes=30'],
    [{ topics: ['a', 'b'], name: 'rx-1', empty: '' }, 'topics=["a","b"] name=rx-1 empty=""'],
    [{}, 'nothing to report'],
  ])('%j', (summary, expected) => expect(formatSummary(summary)).toBe(expected))
})

describe('runService: keys', () => {
  const keyed = defineFlags({ ...keyFlags, ...commonFlags })

  function keyHarness(argv: readonly string[], start = vi.fn(idle()), env: Record<string, string> = {}) {
    const stdout = new MemorySink()
    const stderr = new MemorySink()
    const events = new EventEmitter()
    const exit = vi.fn()
    const code = runService(
      { name: 'shoal-test', version: '1', description: 'Keys.', flags: keyed, start: start as never },
      { argv, env, stdout, stderr, events, exit, stopTimeoutMs: 1000 },
    )
    return { stdout, stderr, events, exit, code, start }
  }

  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-run-keys-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('--new-key writes a 0600 key file, prints its path and key id only, and exits 0 without starting', async () => {
    const path = join(dir, 'group.key')
    const h = keyHarness(['--new-key', path, '--new-key-id', '7'])
    expect(await h.code).toBe(0)
    expect(h.start).not.toHaveBeenCalled()
    expect(h.stdout.text).toBe(`wrote ${path}: key id 7, mode 0600\n`)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const hex = /^7 ([0-9a-f]{64})$/m.exec(readFileSync(path, 'utf8'))?.[1]
    expect(hex).toBeDefined()
    expect(h.stdout.text + h.stderr.text).not.toContain(hex)
  })

  it('--new-key never overwrites: exit 2 naming the flag, the file untouched', async () => {
    const path = join(dir, 'exists.key')
    writeFileSync(path, 'old', { mode: 0o600 })
    const h = keyHarness(['--new-key', path])
    expect(await h.code).toBe(2)
    expect(h.stderr.text).toMatch(new RegExp(`^shoal-test: --new-key ${path} exists`))
    expect(readFileSync(path, 'utf8')).toBe('old')
  })

  it('--new-key-id without --new-key, and --new-key from the environment or a config file, exit 2', async () => {
    expect(await keyHarness(['--new-key-id', '3']).code).toBe(2)
    const config = join(dir, 'config.json')
    writeFileSync(config, JSON.stringify({ newKey: join(dir, 'from-config.key') }))
    const fromFile = keyHarness(['--config', config])
    expect(await fromFile.code).toBe(2)
    expect(fromFile.stderr.text).toContain('--new-key and --new-key-id are given on the command line only')
    // No SHOAL_NEW_KEY: the variable is not read, so the service starts.
    const fromEnv = keyHarness([], vi.fn(idle()), { SHOAL_NEW_KEY: join(dir, 'from-env.key') })
    await vi.waitFor(() => expect(fromEnv.start).toHaveBeenCalled())
    fromEnv.events.emit('SIGTERM')
    expect(await fromEnv.code).toBe(0)
    expect(existsSync(join(dir, 'from-env.key'))).toBe(false)
  })

  it('onReload: SIGHUP calls the listener, and is not listened to without one', async () => {
    const reloads = vi.fn()
    const h = keyHarness(
      [],
      vi.fn((ctx: ServiceContext<unknown>) => {
        ctx.onReload(reloads)
        ctx.logger.info('started')
        return { stop: async () => {}, summary: () => 'ok' }
      }),
    )
    await started(h)
    h.events.emit('SIGHUP')
    h.events.emit('SIGHUP')
    expect(reloads).toHaveBeenCalledTimes(2)
    h.events.emit('SIGTERM')
    expect(await h.code).toBe(0)
    expect(h.events.listenerCount('SIGHUP')).toBe(0)

    const plain = keyHarness([])
    await vi.waitFor(() => expect(plain.start).toHaveBeenCalled())
    expect(plain.events.listenerCount('SIGHUP')).toBe(0)
    plain.events.emit('SIGTERM')
    expect(await plain.code).toBe(0)
  })
})
