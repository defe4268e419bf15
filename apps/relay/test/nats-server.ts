/**
 * A real `nats-server` (Debian package `nats-server`, installed by ./dev) for the NATS tests: on
 * 127.0.0.1 only, on a free port, JetStream on with its store in a temporary folder that goes with
 * it. Without the binary the tests skip with the reason printed; under CI=true they fail.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** `$NATS_SERVER`, else on PATH, else where Debian puts it (/usr/sbin is not on every user's PATH). */
export const NATS_SERVER =
  process.env.NATS_SERVER ??
  (spawnSync('nats-server', ['--version']).error === undefined ? 'nats-server' : '/usr/sbin/nats-server')
/** Longest a server may take to accept connections, ms (a bound, not a speed check). */
export const SERVER_START_MS = 10_000

/** `{ skip }` for `describe.skipIf`; throws under CI=true when the binary is missing. */
export function requireNatsServer(): { skip: boolean } {
  const found = spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' })
  if (found.error === undefined && found.status === 0) return { skip: false }
  const reason = `${NATS_SERVER} not found (Debian: apt-get install nats-server, or ./dev setup)`
  if (process.env.CI === 'true') throw new Error(`${reason}; CI=true needs it`)
  process.stderr.write(`skipping NATS tests: ${reason}\n`)
  return { skip: true }
}

/** A port free on 127.0.0.1 now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export class NatsServer {
  readonly port: number
  readonly #store: string
  #process: ChildProcess | undefined

  readonly #args: readonly string[]

  private constructor(port: number, args: readonly string[]) {
    this.port = port
    this.#args = args
    this.#store = mkdtempSync(join(tmpdir(), 'shoal-nats-'))
  }

  /** `args`: more of nats-server's flags (`--user`, `--pass`, …). */
  static async start(args: readonly string[] = []): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), args)
    await server.restart()
    return server
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }

  /** Starts it (again, after `stop()`), same port and store; resolves when it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn(
      NATS_SERVER,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.#store, ...this.#args],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000)
    })
    this.#process = child
    const deadline = Date.now() + SERVER_START_MS
    while (!(await accepting(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`nats-server on 127.0.0.1:${this.port} did not start: ${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** Stops it (SIGKILL: the clients see the connection drop, as on a crash). */
  async stop(): Promise<void> {
    const child = this.#process
    this.#process = undefined
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  async close(): Promise<void> {
    await this.stop()
    rmSync(this.#store, { recursive: true, force: true })
  }
}
