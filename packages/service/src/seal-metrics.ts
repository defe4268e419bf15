/**
 * A keyed service's sealing on `/metrics` (WIRE.md “Sealing”): which key id seals, what was sealed
 * and opened, and the senders tracked for replay. Never a key: ids only. What was refused is in
 * `shoal_drops_total{reason}` (`unauthenticated`, `no-key`, `unknown-key`, `bad-tag`, `replayed`,
 * `clock-skew`) with every other drop.
 */
import { Counter, Gauge, type Registry } from 'prom-client'

/** A keyed publisher's or subscriber's sealing; structurally the `SealStats` of `@shoal/transport`. */
export interface SealStatsLike {
  /** The key id sealing now; undefined when every key is past its not-after. */
  readonly keyId?: number | undefined
  /** Every key id sealing now, when several sides are added up (a relay re-sealing for another site). */
  readonly keyIds?: readonly number[]
  readonly sealed: number
  /** Datagrams sent unsealed because no key may seal (every key past its not-after). */
  readonly unsealed: number
  readonly opened: number
  readonly senders: number
  readonly sendersEvicted: number
  readonly sendersExpired: number
}

/** Several sides' sealing added up: counters summed, every sealing key id kept. */
export function mergeSealStats(stats: readonly (SealStatsLike | undefined)[]): SealStatsLike | undefined {
  const keyed = stats.filter((s): s is SealStatsLike => s !== undefined)
  if (keyed.length === 0) return undefined
  const sum = (field: 'sealed' | 'unsealed' | 'opened' | 'senders' | 'sendersEvicted' | 'sendersExpired') =>
    keyed.reduce((n, s) => n + s[field], 0)
  return {
    keyIds: [...new Set(keyed.flatMap(sealingIds))].sort((a, b) => a - b),
    sealed: sum('sealed'),
    unsealed: sum('unsealed'),
    opened: sum('opened'),
    senders: sum('senders'),
    sendersEvicted: sum('sendersEvicted'),
    sendersExpired: sum('sendersExpired'),
  }
}

function sealingIds(stats: SealStatsLike): readonly number[] {
  return stats.keyIds ?? (stats.keyId === undefined ? [] : [stats.keyId])
}

/**
 * Registers, read from `seal()` at scrape time (no samples while unkeyed):
 *
 * - `shoal_sealing_key{key_id}` (gauge, 1): the key id sealing now, to see a rotation reach every host
 * - `shoal_seal_datagrams_total{event}`: `sealed`, `opened`, `unsealed` (no key may seal: expired)
 * - `shoal_seal_senders` (gauge): sealing senders tracked for replay protection
 * - `shoal_seal_sender_evictions_total{reason}`: `evicted` (table full), `expired` (idle)
 *
 * Returns the names registered.
 */
export function registerSealMetrics(
  registry: Registry,
  seal: () => SealStatsLike | undefined,
  prefix = 'shoal_',
): string[] {
  const names = ['sealing_key', 'seal_datagrams_total', 'seal_senders', 'seal_sender_evictions_total'].map(
    (name) => `${prefix}${name}`,
  )
  new Gauge({
    name: names[0]!,
    help: 'The key id sealing now (1 per id: a relay re-sealing for another site has two); ids only, never a key.',
    labelNames: ['key_id'],
    registers: [registry],
    collect() {
      this.reset()
      const stats = seal()
      if (stats !== undefined) for (const id of sealingIds(stats)) this.set({ key_id: String(id) }, 1)
    },
  })
  new Counter({
    name: names[1]!,
    help: 'Sealed datagrams: sealed and sent, opened on receipt, and sent unsealed because every key had expired.',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      this.reset()
      const stats = seal()
      if (stats === undefined) return
      this.inc({ event: 'sealed' }, stats.sealed)
      this.inc({ event: 'opened' }, stats.opened)
      this.inc({ event: 'unsealed' }, stats.unsealed)
    },
  })
  new Gauge({
    name: names[2]!,
    help: 'Sealing senders tracked now for replay protection (each with its counter window).',
    registers: [registry],
    collect() {
      this.reset()
      const stats = seal()
      if (stats !== undefined) this.set(stats.senders)
    },
  })
  new Counter({
    name: names[3]!,
    help: 'Sealing senders let go: evicted (table full, least recently heard first) or expired (idle).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset()
      const stats = seal()
      if (stats === undefined) return
      this.inc({ reason: 'evicted' }, stats.sendersEvicted)
      this.inc({ reason: 'expired' }, stats.sendersExpired)
    },
  })
  return names
}
