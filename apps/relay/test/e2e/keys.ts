/**
 * Group key files for the sealed suites: written the way an operator would (mode 0600, `KEY_ID HEX`
 * lines), in a directory the test deletes again, and checks that no key's hex ever shows up in what
 * a service printed, logged or served. Network namespaces share this host's filesystem, so every
 * host reads the same file.
 */
import { type ChildProcessWithoutNullStreams, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Host } from '@shoal/netns'
import type { PromFamily } from '@shoal/service/testing'
import type { Running } from './support.js'

export interface KeyDir {
  readonly path: string
  /** A new random 256-bit key as 64 hex digits (what `openssl rand -hex 32` prints). */
  key(): string
  /** Writes `FILE` (in this directory) holding `keys` as `KEY_ID HEX` lines, mode 0600 unless given. */
  write(file: string, keys: Readonly<Record<number, string>>, mode?: number): string
  /** Every key made so far, for {@link expectNoKeyMaterial}. */
  readonly made: readonly string[]
  remove(): void
}

export function keyDir(): KeyDir {
  const path = mkdtempSync(join(tmpdir(), 'shoal-keys-'))
  const made: string[] = []
  return {
    path,
    made,
    key() {
      const hex = randomBytes(32).toString('hex')
      made.push(hex)
      return hex
    },
    write(file, keys, mode = 0o600) {
      const target = join(path, file)
      const lines = Object.entries(keys).map(([id, hex]) => `${id} ${hex}`)
      writeFileSync(target, `# test keys\n${lines.join('\n')}\n`, { mode })
      return target
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  }
}

/**
 * The keys in `keys` that appear in `texts`, in hex (either case) or as the raw 32 bytes (latin1):
 * an empty list is the only right answer.
 */
export function leakedKeys(texts: readonly (string | Buffer)[], keys: readonly string[]): string[] {
  const leaked: string[] = []
  for (const key of keys) {
    const raw = Buffer.from(key, 'hex')
    for (const text of texts) {
      const buffer = typeof text === 'string' ? Buffer.from(text) : text
      const lower = buffer.toString('latin1').toLowerCase()
      if (lower.includes(key) || buffer.includes(raw)) leaked.push(key.slice(0, 8))
    }
  }
  return leaked
}

/** Whether `tcpdump` can run here. */
export function hasTcpdump(): boolean {
  const result = spawnSync('tcpdump', ['--version'], { timeout: 5_000 })
  return result.error === undefined && result.status === 0
}

export interface Capture {
  /** Stops the capture (SIGINT) and resolves with the pcap bytes and the packets tcpdump counted. */
  stop(): Promise<{ pcap: Buffer; packets: number }>
}

/**
 * `tcpdump -w -` of UDP `port` on `iface` inside `host`'s namespace, the pcap kept in memory (no file:
 * nothing to clean up, no profile in the way). Resolves once tcpdump says it is listening.
 */
export async function startCapture(
  host: Host,
  iface: string,
  port: number,
  timeoutMs = 10_000,
): Promise<Capture> {
  const child: ChildProcessWithoutNullStreams = host.spawn(
    'tcpdump',
    ['-i', iface, '--immediate-mode', '-U', '-n', '-s', '0', '-w', '-', 'udp', 'port', String(port)],
    { timeoutMs: 120_000 },
  )
  const chunks: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), timeoutMs)
    const check = () => {
      if (/listening on/.test(stderr)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stderr.on('data', check)
    child.once('close', (code) => {
      clearTimeout(timer)
      reject(new Error(`tcpdump exited ${code}: ${stderr}`))
    })
  })
  return {
    async stop() {
      child.kill('SIGINT')
      await closed
      const packets = Number(/(\d+) packets? captured/.exec(stderr)?.[1] ?? Number.NaN)
      return { pcap: Buffer.concat(chunks), packets }
    },
  }
}

/**
 * Sends one command line to a fixture that answers each with one JSON line (sealed-injector.mjs),
 * and resolves with the answer.
 */
export async function ask<T = Record<string, unknown>>(p: Running, command: string): Promise<T> {
  const answered = () =>
    p
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
  const before = answered().length
  p.child.stdin.write(`${command}\n`)
  const line = await p.waitUntil(`an answer to ${command}`, () => answered()[before], 60_000)
  const answer = JSON.parse(line) as T & { error?: string }
  if (answer.error !== undefined) throw new Error(`${p.label}: ${command}: ${answer.error}`)
  return answer
}

/** `shoal_drops_total` of a /metrics scrape by reason, the reasons with drops only. */
export function dropsByReason(metrics: ReadonlyMap<string, PromFamily>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const family of metrics.values())
    for (const sample of family.samples)
      if (sample.name === 'shoal_drops_total' && sample.value > 0) {
        const reason = sample.labels.reason ?? ''
        out[reason] = (out[reason] ?? 0) + sample.value
      }
  return out
}
