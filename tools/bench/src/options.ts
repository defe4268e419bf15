/** The bench's flags: parsing, defaults and the usage text. Bad flags are a UsageError (exit 2). */

/** In the order they run; `dds` (the Cyclone DDS peer) right after the Shoal scenarios it is compared with. */
export const SCENARIOS = ['small', 'image', 'latency', 'dds', 'codec', 'nats'] as const
export type Scenario = (typeof SCENARIOS)[number]
export type ProfileMode = 'auto' | 'always' | 'never'

export interface BenchOptions {
  only: Scenario[]
  runs: number
  quick: boolean
  /** Small frames per raw and unbatched run. */
  frames: number
  /** Small frames per batched run. */
  batchedFrames: number
  images: number
  pings: number
  codecMessages: number
  lingerMs: number | undefined
  /** Offered load of the paced batched row, frames/s. */
  batchedRate: number
  /** `pacing.bytesPerSecond` of the paced image row, MB/s (10^6 bytes). */
  imageRate: number
  profile: ProfileMode
  pin: boolean
  out: string
  report: boolean
  /** Re-render this saved results file (results/*.json) instead of measuring. */
  render: string | undefined
}

const DEFAULTS = {
  frames: 500_000,
  batchedFrames: 2_000_000,
  images: 1_000,
  pings: 20_000,
  codecMessages: 1_000_000,
}
const QUICK = { frames: 100_000, batchedFrames: 400_000, images: 200, pings: 3_000, codecMessages: 200_000 }
/** What a sensor fleet offers in the paced batched row, frames/s. */
export const DEFAULT_BATCHED_RATE = 1_200_000
/** The paced image publisher's `pacing.bytesPerSecond`, MB/s. */
export const DEFAULT_IMAGE_RATE = 1_200
export const DEFAULT_RUNS = 5
export const MAX_RUNS = 50

export const USAGE = `Usage: pnpm bench [-- flags]
       pnpm --filter @shoal/bench bench -- [flags]

Measures Shoal against raw node:dgram and Cyclone DDS's ddsperf, every socket inside a private
network namespace that holds only loopback (root needed), sender and receiver in separate
processes. Prints tables, writes JSON and an SVG chart. Never part of \`pnpm test\`.

Flags:
  --only LIST          scenarios, comma-separated (default: all):
                         small    45-byte frames: raw dgram, Shoal unbatched (send, publish),
                                  Shoal batched (as fast as possible, sealed, and paced to
                                  --batched-rate)
                         image    1 MiB images: raw dgram, Shoal (unpaced, unpaced sealed, and
                                  paced to --image-rate)
                         latency  multicast ping, unicast pong round trip: raw dgram, Shoal
                                  (send, send sealed, publish)
                         dds      Cyclone DDS peer (ddsperf, Debian's cyclonedds-tools, installed
                                  with apt-get if missing): reliable 45 B and 1 MiB throughput,
                                  ping/pong round trip; same namespace, same CPUs
                         codec    encode+frame, deframe+decode, one frame and batched: protobufjs
                                  alone, Shoal; per datagram: AES-256-GCM seal/open, Ed25519
                                  sign/verify (no sockets)
                         nats     45-byte frames through relay → nats-server → relay (needs
                                  nats-server and a built apps/relay), paced to 50,000/s; relay A
                                  as started by default, then with --hop-repair
                         memory   receiver peak RSS: same as small,image
  --runs N             runs of every measurement, 1-${MAX_RUNS} (default ${DEFAULT_RUNS}); tables show the median [min-max]
  --quick              smaller counts, for a smoke run (about a minute); Cyclone DDS: 1 timed second
                       per measurement instead of 3
  --frames N           small frames per raw and unbatched run (default ${DEFAULTS.frames}; quick ${QUICK.frames})
  --batched-frames N   small frames per batched run (default ${DEFAULTS.batchedFrames}; quick ${QUICK.batchedFrames})
  --images N           1 MiB images per run (default ${DEFAULTS.images}; quick ${QUICK.images})
  --pings N            timed round trips per run, after N/10 warm-up (default ${DEFAULTS.pings}; quick ${QUICK.pings})
  --codec-messages N   messages per codec measurement (default ${DEFAULTS.codecMessages}; quick ${QUICK.codecMessages})
  --linger-ms X        batch linger for the batched publisher, 0-1 (default: the transport's)
  --batched-rate N     frames/s the paced batched sender offers (default ${DEFAULT_BATCHED_RATE})
  --image-rate N       pacing.bytesPerSecond of the paced image publisher, MB/s (default ${DEFAULT_IMAGE_RATE})
  --profile MODE       auto: CPU-profile Shoal's processes where a target is missed (default)
                       always: profile every Shoal measurement once; never
  --no-pin             do not pin senders to CPU 0 and receivers to CPU 1
  --out DIR            results directory (default tools/bench/results, git-ignored)
  --report             also write the committed report: tools/bench/reports/latest.{md,svg}
  --render FILE        measure nothing: render a saved results/*.json again, judged by today's targets
                       (with --report, into reports/); FILE is relative to tools/bench, or absolute
  --help               this text

Exit codes: 0 done (targets met or not), 1 a measurement failed, 2 bad flags.
`

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

function integer(flag: string, value: string, min: number, max: number): number {
  const digits = value.replace(/_/g, '')
  const n = Number(digits)
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`${flag}: ${JSON.stringify(value)} is not valid; expected an integer ${min}-${max}`)
  return n
}

/** Parses argv (without node and the script). `defaultOut` is the results directory. */
export function parseOptions(argv: readonly string[], defaultOut: string): BenchOptions | 'help' {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv]
  let only: Scenario[] = [...SCENARIOS]
  let runs = DEFAULT_RUNS
  let quick = false
  const counts: Partial<typeof DEFAULTS> = {}
  let lingerMs: number | undefined
  let batchedRate = DEFAULT_BATCHED_RATE
  let imageRate = DEFAULT_IMAGE_RATE
  let profile: ProfileMode = 'auto'
  let pin = true
  let out = defaultOut
  let report = false
  let render: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const eq = arg.indexOf('=')
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined
    const value = (): string => {
      if (inline !== undefined) return inline
      const next = args[i + 1]
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      i++
      return next
    }
    const noValue = () => {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value (got ${JSON.stringify(inline)})`)
    }
    switch (flag) {
      case '--help':
      case '-h':
        return 'help'
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
        const picked = new Set<Scenario>()
        for (const name of names) {
          if (name === 'memory') {
            picked.add('small')
            picked.add('image')
          } else if ((SCENARIOS as readonly string[]).includes(name)) picked.add(name as Scenario)
          else
            throw new UsageError(
              `--only: ${JSON.stringify(name)} is not a scenario; valid: ${[...SCENARIOS, 'memory'].join(', ')}`,
            )
        }
        if (picked.size === 0) throw new UsageError('--only needs at least one scenario')
        only = SCENARIOS.filter((s) => picked.has(s))
        break
      }
      case '--runs':
        runs = integer(flag, value(), 1, MAX_RUNS)
        break
      case '--quick':
        noValue()
        quick = true
        break
      case '--frames':
        counts.frames = integer(flag, value(), 1_000, 100_000_000)
        break
      case '--batched-frames':
        counts.batchedFrames = integer(flag, value(), 1_000, 100_000_000)
        break
      case '--images':
        counts.images = integer(flag, value(), 10, 100_000)
        break
      case '--pings':
        counts.pings = integer(flag, value(), 100, 10_000_000)
        break
      case '--codec-messages':
        counts.codecMessages = integer(flag, value(), 1_000, 1_000_000_000)
        break
      case '--linger-ms': {
        const raw = value()
        const n = Number(raw)
        if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
          throw new UsageError(`--linger-ms: ${JSON.stringify(raw)} is not valid; expected a number 0-1 (ms)`)
        lingerMs = n
        break
      }
      case '--batched-rate':
        batchedRate = integer(flag, value(), 1_000, 100_000_000)
        break
      case '--image-rate':
        imageRate = integer(flag, value(), 1, 100_000)
        break
      case '--profile': {
        const mode = value()
        if (mode !== 'auto' && mode !== 'always' && mode !== 'never')
          throw new UsageError(
            `--profile: ${JSON.stringify(mode)} is not valid; expected auto, always or never`,
          )
        profile = mode
        break
      }
      case '--no-pin':
        noValue()
        pin = false
        break
      case '--out':
        out = value()
        break
      case '--report':
        noValue()
        report = true
        break
      case '--render':
        render = value()
        break
      default:
        throw new UsageError(
          arg.startsWith('-')
            ? `unknown flag ${flag}; see --help`
            : `unexpected argument ${JSON.stringify(arg)}; see --help`,
        )
    }
  }
  const base = quick ? QUICK : DEFAULTS
  return {
    only,
    runs,
    quick,
    frames: counts.frames ?? base.frames,
    batchedFrames: counts.batchedFrames ?? base.batchedFrames,
    images: counts.images ?? base.images,
    pings: counts.pings ?? base.pings,
    codecMessages: counts.codecMessages ?? base.codecMessages,
    lingerMs,
    batchedRate,
    imageRate,
    profile,
    pin,
    out,
    report,
    render,
  }
}
