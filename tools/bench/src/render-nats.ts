/** The NATS path in the report: one row, frames/s delivered through relay → nats-server → relay. */
import { compact, int, table, withSpread } from './format.js'
import type { NatsResult } from './scenarios/nats.js'
import { spread } from './stats.js'

export function natsSection(r: NatsResult): string {
  const name = `Shoal → relay → nats-server → relay → Shoal, 45 B frames offered at ${compact(r.offeredRate)}/s`
  const row = r.available
    ? [
        name,
        withSpread(r.rate, compact),
        withSpread(r.loss, int),
        withSpread(spread(r.runs.map((run) => run.gaps ?? Number.NaN)), int),
        int(spread(r.runs.map((run) => run.natsDropped ?? Number.NaN)).median),
      ]
    : [name, r.reason ?? 'not available', '', '', '']
  return [
    '## NATS path',
    '',
    table(['path', 'delivered/s', 'loss', 'gaps', 'dropped at relay A'], [row], ['l', 'r', 'r', 'r', 'r']),
    '',
    `${int(r.frames)} frames per run from a paced sender on group port A; relay A (\`--out nats://…/bench\`) ` +
      'publishes each on NATS, relay B (`--in nats://…/bench`) sends it onto group port B with its original ' +
      'session and sequence, where the receiver counts it: its gaps are what was lost on the way. ' +
      'The server, both relays, sender and receiver are separate processes in the bench namespace, on 127.0.0.1.',
  ].join('\n')
}
