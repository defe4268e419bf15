import type { StatsSnapshot } from '@shoal/transport'

/**
 * Topics and sources listed by name in the summary, those with the most frames: a stranger can make
 * thousands, and the summary is one line. How many more there were is counted (`moreTopics`,
 * `moreSources`); their frames are in the totals.
 */
export const MAX_SUMMARY_NAMES = 32

export interface SummaryExtras {
  /** Raw mode: datagrams are the unit, there are no frames. */
  readonly raw: boolean
  readonly recorded?: { readonly file: string; readonly records: number; readonly rotations: number }
  /** Lines stdout could not take (a stalled reader). */
  readonly outputDropped: number
  /** A session's source id (`--source-id` of its sender), for the sessions listed. */
  readonly sourceId?: (session: string) => string | undefined
}

/**
 * The final line's fields: totals of frames, payload bytes, gaps (frames lost), duplicates and
 * drops (streams no longer tracked included), then drops by reason (sealed frames without a key
 * are `no-key`, plain ones with a key `unauthenticated`), a keyed receiver's key id and sealed
 * datagrams opened, datagrams the kernel dropped
 * (`kernelDrops`, its receive buffer full), frames far from their stream's position (`jumps`),
 * streams let go (`streamsEvicted`, `streamsExpired`), publishers gone (`sourcesGone`), repair requests (NACKs sent, fragments that
 * came back, whole frames asked for and given up on) and frames per topic and per source when there are any (at most
 * {@link MAX_SUMMARY_NAMES} of each, of the streams still tracked).
 */
export function summarize(stats: StatsSnapshot, extras: SummaryExtras): Record<string, unknown> {
  if (extras.raw)
    return {
      datagrams: stats.datagramsIn,
      bytes: stats.bytesIn,
      ...kernelFields(stats),
      ...outputFields(extras),
    }
  const retired = stats.streams?.retired
  let frames = retired?.frames ?? 0
  let bytes = retired?.bytes ?? 0
  let gaps = retired?.gaps ?? 0
  let duplicates = retired?.duplicates ?? 0
  let jumps = retired?.jumps ?? 0
  const topics: Record<string, number> = Object.create(null)
  const sources: Record<string, number> = Object.create(null)
  for (const stream of stats.received) {
    frames += stream.frames
    bytes += stream.bytes
    gaps += stream.gaps
    duplicates += stream.duplicates
    jumps += stream.jumps
    topics[stream.topic] = (topics[stream.topic] ?? 0) + stream.frames
    sources[stream.source] = (sources[stream.source] ?? 0) + stream.frames
  }
  const dropsByReason = Object.fromEntries(
    Object.entries(stats.drops).filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0),
  )
  const drops = Object.values(dropsByReason).reduce((sum, n) => sum + n, 0)
  return {
    frames,
    bytes,
    gaps,
    duplicates,
    drops,
    ...(drops > 0 ? { dropsByReason } : {}),
    ...kernelFields(stats),
    // Keyed: the key id its control frames are sealed with, and the sealed datagrams that opened.
    ...(stats.seal === undefined ? {} : { keyId: stats.seal.keyId ?? null, opened: stats.seal.opened }),
    ...(jumps > 0 ? { jumps } : {}),
    ...(stats.streams !== undefined && stats.streams.evicted > 0
      ? { streamsEvicted: stats.streams.evicted }
      : {}),
    ...(stats.streams !== undefined && stats.streams.expired > 0
      ? { streamsExpired: stats.streams.expired }
      : {}),
    // publishers that stopped (no frame, no heartbeat) while the receiver ran
    ...((stats.sources?.gone ?? 0) > 0 ? { sourcesGone: stats.sources?.gone } : {}),
    ...(stats.repair.nacksSent > 0
      ? {
          nacks: stats.repair.nacksSent,
          repairedFragments: stats.repair.fragmentsRepaired,
          framesAsked: stats.repair.framesAsked,
          ...(stats.repair.framesGivenUp > 0 ? { framesGivenUp: stats.repair.framesGivenUp } : {}),
        }
      : {}),
    ...(stats.received.length > 0
      ? { ...listed('topics', topics), ...listed('sources', sources), ...sourceIdFields(sources, extras) }
      : {}),
    ...(extras.recorded === undefined
      ? {}
      : {
          recorded: extras.recorded.records,
          recordFile: extras.recorded.file,
          ...(extras.recorded.rotations > 0 ? { rotations: extras.recorded.rotations } : {}),
        }),
    ...outputFields(extras),
  }
}

/**
 * `{ sourceIds: { eb4831e3: 'imu0' } }`: the source id of each session listed in `sources` (so at
 * most {@link MAX_SUMMARY_NAMES}), when one is known.
 */
function sourceIdFields(sources: Record<string, number>, extras: SummaryExtras): Record<string, unknown> {
  const lookup = extras.sourceId
  if (lookup === undefined) return {}
  const listedSessions = Object.keys(listed('sources', sources).sources as Record<string, number>)
  const ids: Record<string, string> = {}
  for (const session of listedSessions) {
    const id = lookup(session)
    if (id !== undefined) ids[session] = id
  }
  return Object.keys(ids).length > 0 ? { sourceIds: ids } : {}
}

/** Datagrams the kernel dropped before the receiver could read them, when there were any. */
function kernelFields(stats: StatsSnapshot): Record<string, number> {
  return (stats.kernelDrops ?? 0) > 0 ? { kernelDrops: stats.kernelDrops! } : {}
}

function outputFields(extras: SummaryExtras): Record<string, number> {
  return extras.outputDropped > 0 ? { outputDropped: extras.outputDropped } : {}
}

/**
 * `{ topics: {a: 3, b: 1} }`: the {@link MAX_SUMMARY_NAMES} with the most frames, by name, and
 * `moreTopics: n` when there were more.
 */
function listed(key: 'topics' | 'sources', counts: Record<string, number>): Record<string, unknown> {
  const entries = Object.entries(counts)
  const shown = entries
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .slice(0, MAX_SUMMARY_NAMES)
    .sort(([a], [b]) => a.localeCompare(b))
  const more = entries.length - shown.length
  const moreKey = key === 'topics' ? 'moreTopics' : 'moreSources'
  return { [key]: Object.fromEntries(shown), ...(more > 0 ? { [moreKey]: more } : {}) }
}
