/** The NATS path in the report: frames/s delivered through relay → nats-server → relay, without and with `--hop-repair`. */
import { compact, int, table, withSpread } from './format.js'
import type { NatsResult, NatsVariant } from './scenarios/nats.js'
import { spread } from './stats.js'

export function natsSection(r: NatsResult): string {
  const name = `Shoal → relay → nats-server → relay → Shoal, 45 B frames offered at ${compact(r.offeredRate)}/s`
  const row = (label: string, v: NatsVariant) => [
    label,
    withSpread(v.rate, compact),
    withSpread(v.loss, int),
    withSpread(spread(v.runs.map((run) => run.gaps ?? Number.NaN)), int),
    int(spread(v.runs.map((run) => run.natsDropped ?? Number.NaN)).median),
  ]
  const rows = r.available
    ? [
        row(name, r),
        ...(r.hopRepair === undefined ? [] : [row(`${name}, relay A --hop-repair`, r.hopRepair)]),
      ]
    : [[name, r.reason ?? 'not available', '', '', '']]
  return [
    '## NATS path',
    '',
    table(['path', 'delivered/s', 'loss', 'gaps', 'dropped at relay A'], rows, ['l', 'r', 'r', 'r', 'r']),
    '',
    `${int(r.frames)} frames per run from a paced sender on group port A; relay A (\`--out nats://…/bench\`) ` +
      'publishes each on NATS, relay B (`--in nats://…/bench`) sends it onto group port B with its original ' +
      'session and sequence, where the receiver counts it: its gaps are what was lost on the way. ' +
      'The server, both relays, sender and receiver are separate processes in the bench namespace, on 127.0.0.1. ' +
      'With `--hop-repair` relay A reports STATUS to the sender, whose flow control then waits for it.',
  ].join('\n')
}
