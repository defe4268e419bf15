#!/usr/bin/env node
/**
 * `pnpm demo` (and `./dev demo`): the three services as a user would run them, on loopback only.
 *
 *   shoal-send ──239.255.0.1:7400──▶ shoal-relay ──239.255.0.2:7401──▶ shoal-recv
 *
 * Every socket is on interface 127.0.0.1, so nothing leaves this machine. The receiver prints a
 * sample of the decoded frames and its live stats on this terminal; after DEMO_SECONDS (or Ctrl-C)
 * the sender stops, the receiver gets what is still in flight, and a summary says what was sent,
 * relayed, received and lost. Runs the built bundles apps/{sender,receiver,relay}/dist/*.js.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** How long the sender runs, seconds (SHOAL_DEMO_SECONDS overrides, 1-3600). */
const DEMO_SECONDS = seconds(process.env.SHOAL_DEMO_SECONDS, 10)
/** Longest wait for a service to start, and for the receiver to get the frames still in flight, ms. */
const START_TIMEOUT_MS = 10_000
const DRAIN_TIMEOUT_MS = 2_000
/** A service that does not exit this long after SIGINT is killed (they promise 2 s), ms. */
const STOP_TIMEOUT_MS = 3_000

const LOOPBACK = '127.0.0.1'
const FROM = { group: '239.255.0.1', port: 7400 }
const TO = { group: '239.255.0.2', port: 7401 }

const bin = (app, file) => fileURLToPath(new URL(`../apps/${app}/dist/${file}`, import.meta.url))
const BIN = {
  send: bin('sender', 'shoal-send.js'),
  recv: bin('receiver', 'shoal-recv.js'),
  relay: bin('relay', 'shoal-relay.js'),
}

const tty = process.stdout.isTTY === true && !process.env.NO_COLOR
const bold = (text) => (tty ? `\u001b[1m${text}\u001b[22m` : text)
const dim = (text) => (tty ? `\u001b[2m${text}\u001b[22m` : text)

function seconds(text, fallback) {
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value < 1 || value > 3600) {
    console.error(`demo: SHOAL_DEMO_SECONDS=${text} is not a number of seconds from 1 to 3600`)
    process.exit(2)
  }
  return value
}

/** The services get no SHOAL_* setting of this shell: the demo's flags are the whole config. */
function demoEnv() {
  const env = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SHOAL_')) env[key] = value
  return env
}

/**
 * Starts a service. Its stderr (JSON log lines, since it is a pipe) is kept for the summary and
 * shown only if it fails; the receiver's stdout is this terminal. Each service gets a process group
 * of its own, so Ctrl-C reaches the demo alone, which then stops them in order.
 */
function start(app, args, { stdout = 'ignore' } = {}) {
  const child = spawn(process.execPath, [BIN[app], ...args], {
    stdio: ['ignore', stdout, 'pipe'],
    env: demoEnv(),
    detached: true,
  })
  const service = { app, child, stderr: '', exit: undefined }
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    service.stderr += chunk
  })
  service.exited = new Promise((resolve) => {
    child.on('error', (error) => {
      service.stderr += `\n${error.message}`
      service.exit ??= { code: null, signal: null }
      resolve(service.exit)
    })
    child.on('close', (code, signal) => {
      service.exit = { code, signal }
      resolve(service.exit)
    })
  })
  services.push(service)
  return service
}
const services = []

/**
 * Ctrl-C (SIGINT) or SIGTERM at any time: before the sender runs, the demo stops what it started and
 * ends; while it runs, the sender is stopped and the demo goes on to its summary as if time were up.
 */
let interrupted = false
let onInterrupt = () => {}
const interrupt = () => {
  interrupted = true
  onInterrupt()
}
process.on('SIGINT', interrupt)
process.on('SIGTERM', interrupt)

/** The service's JSON log records so far. */
function logs(service) {
  return service.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line)]
      } catch {
        return []
      }
    })
}

function waitForLog(service, msg, timeoutMs) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const poll = setInterval(() => {
      const found = logs(service).find((record) => record.msg === msg)
      if (found) {
        clearInterval(poll)
        resolve(found)
      } else if (interrupted) {
        clearInterval(poll)
        reject(new Error('interrupted'))
      } else if (service.exit !== undefined || Date.now() > deadline) {
        clearInterval(poll)
        reject(
          new Error(
            service.exit === undefined
              ? `shoal-${service.app} did not start within ${timeoutMs / 1000} s`
              : `shoal-${service.app} exited (${service.exit.code ?? service.exit.signal})`,
          ),
        )
      }
    }, 20)
  })
}

async function stop(service, signal = 'SIGINT') {
  if (service.exit === undefined) {
    try {
      service.child.kill(signal)
    } catch {
      // already gone
    }
  }
  const timer = setTimeout(() => service.child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  const exit = await service.exited
  clearTimeout(timer)
  return exit
}

/** The `summary` of the service's `stopped` log record. */
function summary(service) {
  return logs(service).find((record) => record.msg === 'stopped')?.summary ?? {}
}

/** Frames the receiver has counted so far, from its /metrics. */
async function receivedFrames(url) {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1_000) })
  const text = await response.text()
  let frames = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('shoal_frames_total{') && line.includes('direction="in"'))
      frames += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return frames
}

const n = (value) => (typeof value === 'number' ? value.toLocaleString('en-US') : '?')

function fail(message) {
  console.error(`\ndemo: ${message}`)
  for (const service of services) {
    const tail = service.stderr
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(-5)
    if (service.exit?.code !== 0 && tail.length > 0)
      console.error(`--- shoal-${service.app} (stderr, last lines)\n${tail.join('\n')}`)
  }
  return 1
}

/**
 * Builds the three services and what they depend on (turbo: cached, so quick when nothing changed);
 * turbo's output is shown only when the build fails.
 */
function build() {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const filters = ['@shoal/sender...', '@shoal/receiver...', '@shoal/relay...'].map((f) => `--filter=${f}`)
  const result = spawnSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'],
    {
      cwd: root,
      encoding: 'utf8',
      // Turbo (telemetry) and pnpm (update check) go online unless told not to; the demo stays on the host.
      env: {
        ...process.env,
        TURBO_TELEMETRY_DISABLED: '1',
        DO_NOT_TRACK: '1',
        NPM_CONFIG_UPDATE_NOTIFIER: 'false',
      },
    },
  )
  if (result.status === 0) return true
  process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}\n`)
  return false
}

async function main() {
  if (!process.argv.includes('--no-build') && !build()) return fail('the build failed (turbo output above)')
  if (interrupted) return 130
  const missing = Object.values(BIN).filter((file) => !existsSync(file))
  if (missing.length > 0) return fail(`${missing.join(', ')} not built: run pnpm build first`)

  console.log(
    [
      bold(
        'Shoal demo: sender → relay → receiver, on loopback only (127.0.0.1; nothing leaves this machine)',
      ),
      `  shoal-send   simulated IMU 200 Hz, GPS 10 Hz, temperature 1 Hz, camera 10 Hz (640×480 rgb8, fragmented)`,
      `               to ${FROM.group}:${FROM.port}`,
      `  shoal-relay  joins ${FROM.group}:${FROM.port}, forwards to ${TO.group}:${TO.port}`,
      `  shoal-recv   joins ${TO.group}:${TO.port}: a sample of the decoded frames, and live stats below them`,
      dim(`Runs ${DEMO_SECONDS} s; Ctrl-C stops it sooner.`),
      '',
    ].join('\n'),
  )

  const common = ['--interface', LOOPBACK]
  const recv = start(
    'recv',
    [...common, '--group', TO.group, '--port', String(TO.port), '--output', 'pretty', '--http', '0'],
    { stdout: 'inherit' },
  )
  const relay = start('relay', [
    ...common,
    '--in',
    `multicast://${FROM.group}:${FROM.port}`,
    '--out',
    `multicast://${TO.group}:${TO.port}`,
    '--relay-id',
    'demo-relay',
  ])
  let url
  try {
    ;[url] = await Promise.all([
      waitForLog(recv, 'serving /metrics and /healthz', START_TIMEOUT_MS).then((record) => record.url),
      waitForLog(recv, 'ready', START_TIMEOUT_MS),
      waitForLog(relay, 'ready', START_TIMEOUT_MS),
    ])
  } catch (error) {
    await Promise.all(services.map((service) => stop(service)))
    if (interrupted) return 130
    return fail(error.message)
  }

  const send = start('send', [
    ...common,
    '--group',
    FROM.group,
    '--port',
    String(FROM.port),
    '--duration',
    `${DEMO_SECONDS}s`,
    '--source-id',
    'demo',
  ])
  onInterrupt = () => stop(send)
  await send.exited
  const sent = summary(send).frames

  // The last frames may still be on their way through the relay: wait until the receiver has as
  // many as were sent, for at most DRAIN_TIMEOUT_MS (what does not arrive by then is lost).
  const deadline = Date.now() + DRAIN_TIMEOUT_MS
  while (typeof sent === 'number' && Date.now() < deadline && recv.exit === undefined) {
    const got = await receivedFrames(url).catch(() => undefined)
    if (got !== undefined && got >= sent) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await stop(relay)
  await stop(recv)

  const failed = services.filter((service) => service.exit?.code !== 0)
  if (failed.length > 0)
    return fail(
      `${failed.map((service) => `shoal-${service.app} exited ${service.exit.code ?? service.exit.signal}`).join(', ')}`,
    )

  const received = summary(recv)
  const relayed = summary(relay)
  // Only this run's sender counts (another sender on the same group, a second demo, would add frames).
  const session = logs(send).find((record) => typeof record.session === 'string')?.session
  const ours = received.sources?.[session] ?? received.frames
  const others = typeof received.frames === 'number' && typeof ours === 'number' ? received.frames - ours : 0
  const lost = typeof sent === 'number' && typeof ours === 'number' ? sent - ours : undefined
  const topics = Object.entries(received.topics ?? {})
    .map(([topic, frames]) => `${topic} ${n(frames)}`)
    .join(', ')
  console.log(
    [
      '',
      bold(`summary${interrupted ? ' (stopped by Ctrl-C)' : ''}:`),
      `  sent      ${n(sent)} frames (${n(summary(send).datagrams)} datagrams) by shoal-send`,
      `  relayed   ${n(relayed.forwarded)} frames and fragments by shoal-relay (${n(relayed.dropped)} dropped)`,
      `  received  ${n(ours)} frames by shoal-recv${topics === '' ? '' : `: ${topics}`}`,
      ...(others > 0 ? [`            and ${n(others)} from other senders on ${TO.group}:${TO.port}`] : []),
      `  lost      ${n(lost)} (sent − received; the receiver counted ${n(received.gaps)} gaps in sequence)`,
      '',
      dim(
        'Next: apps/sender, apps/receiver and apps/relay README.md for the flags; --interface eth0 to leave loopback.',
      ),
    ].join('\n'),
  )
  return ours > 0 ? 0 : fail('the receiver got no frames')
}

process.exitCode = await main().catch((error) => fail(error.stack ?? String(error)))
// Whatever happened, no service outlives the demo.
for (const service of services) if (service.exit === undefined) service.child.kill('SIGKILL')
