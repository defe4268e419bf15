/**
 * Scenario 7: the NATS path, twice: relay A as started by default, and with `--hop-repair` (its
 * input reports STATUS, so the sender's flow control waits for it). Per run, a `nats-server`, two relays (the built bundle of
 * `@shoal/relay`) and the small-frame sender and receiver, every one a process inside the bench's
 * namespace on 127.0.0.1: the sender publishes 45-byte frames on group port A, relay A takes them to
 * NATS (`nats://127.0.0.1:PORT/bench`), relay B takes them back onto group port B, where the
 * receiver counts them. The row is frames/s delivered end to end, and what was lost on the way
 * (the receiver's gaps: the relays keep session and sequence, so they count it exactly).
 */
import { type ChildProcessWithoutNullStreams, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BenchContext } from '../context.js'
import { GROUP, LOOPBACK } from '../samples.js'
import { type Spread, spread } from '../stats.js'
import { runPair } from './pair.js'

/** Frames/s the sender offers (paced): what one relay pair is asked to carry. */
export const NATS_OFFERED_RATE = 50_000
/** Frames per run; `--quick`: fewer. */
export const NATS_FRAMES = 250_000
export const QUICK_NATS_FRAMES = 50_000
/** How long nats-server and each relay may take to be ready, ms. */
const READY_MS = 15_000
const CHUNK = 8192
const PAUSE_MS = 500
const PREFIX = 'bench'

export interface NatsRun {
  run: number
  sent: number
  delivered: number
  loss: number
  gaps: number | undefined
  /** Delivered frames/s at the receiver, first to last arrival. */
  rate: number
  sendRate: number
  /** Relay A's summary: published to NATS, and dropped on the way to it. */
  natsOut: number | undefined
  natsDropped: number | undefined
  othersCores: number | undefined
}

export interface NatsVariant {
  runs: NatsRun[]
  rate: Spread
  loss: Spread
}

export interface NatsResult extends NatsVariant {
  available: boolean
  reason?: string
  frames: number
  offeredRate: number
  /** The same path with `--hop-repair` on relay A. */
  hopRepair?: NatsVariant
}

const RELAY_BUNDLE = fileURLToPath(new URL('../../../../apps/relay/dist/shoal-relay.js', import.meta.url))

function natsServerBinary(): string | undefined {
  for (const candidate of ['nats-server', '/usr/sbin/nats-server'])
    if (spawnSync(candidate, ['--version']).status === 0) return candidate
  return undefined
}

/** Resolves when `pattern` shows in the process's stdout or stderr; rejects after `ms` or on exit. */
function waitForOutput(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  what: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(
      () => done(new Error(`${what} not ready in ${READY_MS} ms: ${seen.slice(-2000)}`)),
      READY_MS,
    )
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-20_000)
      if (pattern.test(seen)) done()
    }
    const onExit = () => done(new Error(`${what} exited: ${seen.slice(-2000)}`))
    const done = (error?: Error) => {
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.stderr.off('data', onData)
      child.off('exit', onExit)
      if (error === undefined) resolve(seen)
      else reject(error)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', onExit)
  })
}

/** Stops a process (SIGTERM, then SIGKILL after 5 s); resolves with what it printed meanwhile. */
async function stop(child: ChildProcessWithoutNullStreams): Promise<string> {
  let out = ''
  const collect = (chunk: Buffer) => {
    out += chunk.toString()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
  return out
}

function summaryValue(text: string, key: string): number | undefined {
  const match = new RegExp(`${key}=(\\d+)`).exec(text)
  return match === null ? undefined : Number(match[1])
}

async function measureNats(
  ctx: BenchContext,
  server: string,
  run: number,
  frames: number,
  hopRepair: boolean,
): Promise<NatsRun> {
  const host = ctx.host!
  const natsPort = ctx.nextPort()
  const portA = ctx.nextPort()
  const portB = ctx.nextPort()
  const nats = `nats://${LOOPBACK}:${natsPort}/${PREFIX}`
  const relayArgs = (input: string, output: string) => [
    RELAY_BUNDLE,
    '--in',
    input,
    '--out',
    output,
    '--log-level',
    'info',
  ]
  const group = (port: number) => `multicast://${GROUP}:${port}?interface=${LOOPBACK}`
  const children: ChildProcessWithoutNullStreams[] = []
  try {
    const natsServer = host.spawn(server, ['-a', LOOPBACK, '-p', String(natsPort)])
    children.push(natsServer)
    await waitForOutput(natsServer, /Server is ready/, 'nats-server')
    const relayB = host.spawn(process.execPath, relayArgs(nats, group(portB)))
    const relayA = host.spawn(process.execPath, [
      ...relayArgs(group(portA), nats),
      ...(hopRepair ? ['--hop-repair'] : []),
    ])
    children.push(relayB, relayA)
    await Promise.all([
      waitForOutput(relayB, /"msg":"ready"/, 'relay B'),
      waitForOutput(relayA, /"msg":"ready"/, 'relay A'),
    ])
    const { sent, received, othersCores } = await runPair(ctx, {
      receiver: 'small-receiver',
      sender: 'small-sender',
      receiverConfig: { group: GROUP, port: portB, iface: LOOPBACK, impl: 'shoal', sealed: false, frames },
      senderConfig: {
        group: GROUP,
        port: portA,
        iface: LOOPBACK,
        variant: 'paced',
        frames,
        chunk: CHUNK,
        pauseMs: PAUSE_MS,
        lingerMs: ctx.options.lingerMs,
        rate: NATS_OFFERED_RATE,
      },
      sendMs: Math.max(30_000, (frames / NATS_OFFERED_RATE) * 3_000),
    })
    if (sent.unavailable !== undefined) throw new Error(`nats: ${sent.unavailable}`)
    const summaryA = await stop(relayA)
    return {
      run,
      sent: sent.sent,
      delivered: received.delivered,
      loss: sent.sent - received.delivered,
      gaps: received.gaps,
      rate: received.elapsedNs > 0 ? received.timedFrames / (received.elapsedNs / 1e9) : 0,
      sendRate: sent.elapsedNs > 0 ? sent.sent / (sent.elapsedNs / 1e9) : 0,
      natsOut: summaryValue(summaryA, 'nats-out'),
      natsDropped: summaryValue(summaryA, 'nats-dropped'),
      othersCores,
    }
  } finally {
    for (const child of children.reverse()) await stop(child)
  }
}

export async function runNats(ctx: BenchContext): Promise<NatsResult> {
  const frames = ctx.options.quick ? QUICK_NATS_FRAMES : NATS_FRAMES
  const empty = { frames, offeredRate: NATS_OFFERED_RATE, runs: [], rate: spread([]), loss: spread([]) }
  const server = natsServerBinary()
  if (server === undefined)
    return {
      ...empty,
      available: false,
      reason: 'nats-server not found (Debian: apt-get install nats-server)',
    }
  if (!existsSync(RELAY_BUNDLE))
    return {
      ...empty,
      available: false,
      reason: 'apps/relay is not built (pnpm --filter @shoal/relay build)',
    }
  const variant = async (hopRepair: boolean): Promise<NatsVariant> => {
    const runs: NatsRun[] = []
    for (let run = 0; run < ctx.options.runs; run++) {
      const result = await measureNats(ctx, server, run, frames, hopRepair)
      runs.push(result)
      ctx.log(
        `nats${hopRepair ? ' --hop-repair' : ''}   run ${run + 1}/${ctx.options.runs}  ${Math.round(result.rate).toLocaleString('en-US')} frames/s delivered ` +
          `(offered ${Math.round(result.sendRate).toLocaleString('en-US')}), loss ${result.loss}, gaps ${result.gaps ?? '?'}, ` +
          `relay A published ${result.natsOut ?? '?'} dropped ${result.natsDropped ?? '?'}`,
      )
    }
    return { runs, rate: spread(runs.map((r) => r.rate)), loss: spread(runs.map((r) => r.loss)) }
  }
  const plain = await variant(false)
  const hopRepair = await variant(true)
  return { available: true, frames, offeredRate: NATS_OFFERED_RATE, ...plain, hopRepair }
}
