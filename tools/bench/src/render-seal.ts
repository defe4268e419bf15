/**
 * Sealing in the report: a line under the small-frame, image and latency tables comparing each
 * sealed row with its unsealed row, and a section of its own: the three comparisons side by side,
 * the per-datagram cost of AES-256-GCM against Ed25519 signatures (from the codec scenario), and
 * what signatures would cost at the rates measured in this run.
 */
import { compact, fixed, int, table, withSpread } from './format.js'
import type { BenchResults } from './results.js'
import type { CryptoRowResult } from './scenarios/codec.js'
import { SEAL_TARGETS, UNSEALED } from './sealed.js'
import { type Spread, spread } from './stats.js'

type Small = NonNullable<BenchResults['small']>
type Image = NonNullable<BenchResults['image']>
type Latency = NonNullable<BenchResults['latency']>
type Codec = NonNullable<BenchResults['codec']>

const times = (s: Spread | undefined) => (s === undefined ? '—' : withSpread(s, (n) => `${n.toFixed(2)}×`))
const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`
const ratioTarget = `≥ ${SEAL_TARGETS.minRatio.toFixed(2)}×`
const p50Target = `≤ +${SEAL_TARGETS.maxAddedP50Us} µs`

export function smallSealNote(r: Small): string[] {
  const s = r.variants.sealed
  if (s?.vsUnsealed === undefined || !s.available) return []
  return [
    '',
    'The sealed row is the as-fast-as-possible row with a keyed publisher and subscriber (AES-256-GCM, mode `encrypt`: ' +
      'each batch datagram sealed once): per run it delivered ' +
      `${times(s.vsUnsealed)} of the unsealed row's rate (target ${ratioTarget}).`,
  ]
}

export function imageSealNote(r: Image): string[] {
  const s = r.variants.sealed
  if (s?.vsUnsealed === undefined) return []
  return [
    '',
    'The sealed row is the unpaced row with a keyed publisher and subscriber (AES-256-GCM, mode `encrypt`: each fragment ' +
      `sealed on its own): per run its goodput was ${times(s.vsUnsealed)} of the unpaced row's (target ${ratioTarget}).`,
  ]
}

export function latencySealNote(r: Latency): string[] {
  const s = r.impls.sealed
  if (s?.p50VsUnsealed === undefined) return []
  return [
    '',
    `Sealed − unsealed \`send\`, per run: p50 ${withSpread(s.p50VsUnsealed, signed)} µs (target ${p50Target}), ` +
      `p99 ${times(s.p99VsUnsealed)}.`,
  ]
}

/** µs per datagram of a rate in datagrams/s, run by run. */
const micros = (perSecond: Spread): Spread => spread(perSecond.values.map((v) => 1e6 / v))

function cryptoRow(rows: readonly CryptoRowResult[], op: CryptoRowResult['op'], bytes: number) {
  return rows.find((r) => r.op === op && r.datagramBytes === bytes)
}

/** The per-datagram table: one line per sealed datagram size, seal and sign side by side. */
function cryptoTable(codec: Codec, rows: readonly CryptoRowResult[]): string[] {
  const sizes = [...new Set(rows.filter((r) => r.op === 'seal').map((r) => r.datagramBytes))]
  const us = (r: CryptoRowResult | undefined) =>
    r === undefined ? '—' : withSpread(micros(r.perSecond), fixed(1))
  const body = sizes.map((bytes) => {
    const both = cryptoRow(rows, 'seal+open', bytes)
    const signed = cryptoRow(rows, 'sign+verify', bytes)
    const frame = both?.frameBytes ?? bytes
    const name = bytes < 1_000 ? `${int(frame)} B frame (${int(bytes)} B sealed)` : `${int(bytes)} B`
    const vs =
      both === undefined || signed === undefined
        ? '—'
        : `${(both.perSecond.median / signed.perSecond.median).toFixed(1)}×`
    return [
      name,
      us(cryptoRow(rows, 'seal', bytes)),
      us(cryptoRow(rows, 'open', bytes)),
      us(both),
      both === undefined ? '—' : fixed(0)((both.perSecond.median * bytes) / 1e6),
      us(cryptoRow(rows, 'sign', bytes)),
      us(cryptoRow(rows, 'verify', bytes)),
      us(signed),
      vs,
    ]
  })
  return [
    `µs per datagram on one core, no sockets, each row timed for ${int(codec.cryptoMs ?? Number.NaN)} ms a run after a warm-up ` +
      '(median [min–max] over the runs). Seal and open are AES-256-GCM as the transport does them: seal copies the header ' +
      'around the 20-byte seal extension, encrypts (a new buffer from the cipher, gathered, not copied), adds the tag and a new ' +
      'CRC-32; open reads the seal ' +
      'fields, looks up the sender key and checks the tag (not counted: the frame decode and CRC check every datagram ' +
      'pays, and the replay window). Ed25519 sign and verify (node:crypto, over the whole datagram) are not in the ' +
      'transport: they are what per-sender signatures would add on top of sealing.',
    '',
    table(
      [
        'datagram',
        'AES-GCM seal',
        'open',
        'seal + open',
        'seal + open MB/s',
        'Ed25519 sign',
        'verify',
        'sign + verify',
        'sign + verify ÷ seal + open',
      ],
      body,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  ]
}

/**
 * What signing and verifying every datagram would take at the rates this run measured unsealed
 * (the image row's 64 KiB fragments, the batched row's batches), in cores: above 1, the one core a
 * sender or receiver has cannot keep up.
 */
function signatureBudget(results: BenchResults, rows: readonly CryptoRowResult[]): string[] {
  const lines: string[] = []
  const cores = (datagramsPerSecond: number, op: CryptoRowResult['op'], bytes: number) => {
    const row = cryptoRow(rows, op, bytes)
    return row === undefined ? Number.NaN : datagramsPerSecond / row.perSecond.median
  }
  const say = (what: string, datagramsPerSecond: number, bytes: number) => {
    const sign = cores(datagramsPerSecond, 'sign', bytes)
    const verify = cores(datagramsPerSecond, 'verify', bytes)
    const seal = cores(datagramsPerSecond, 'seal', bytes)
    if (!Number.isFinite(sign) || !Number.isFinite(verify)) return
    const verdict =
      Math.max(sign, verify) >= 1
        ? 'more than the one core each end has: not affordable at this rate'
        : `${((1 - Math.max(sign, verify)) * 100).toFixed(0)} % of a core left at the busier end, before anything else it does`
    lines.push(
      `- ${what}: ${compact(datagramsPerSecond)} datagrams/s of ${int(bytes)} B. Signing them would take ` +
        `${sign.toFixed(2)} cores at the sender and verifying ${verify.toFixed(2)} at each receiver ` +
        `(sealing takes ${Number.isFinite(seal) ? seal.toFixed(2) : '?'}): ${verdict}.`,
    )
  }
  const image = results.image
  const unpaced = image?.variants[UNSEALED.image]
  if (image !== undefined && unpaced !== undefined) {
    const imagesPerSecond = (unpaced.goodput.median * 1e6) / image.dataBytes
    say(
      `1 MiB images at the unsealed unpaced rate (${fixed(0)(unpaced.goodput.median)} MB/s, ` +
        `${image.datagramsPerImage[UNSEALED.image]} datagrams an image)`,
      imagesPerSecond * image.datagramsPerImage[UNSEALED.image],
      maxSignedSize(rows),
    )
  }
  const small = results.small
  const batched = small?.variants[UNSEALED.small]
  if (small !== undefined && batched?.available === true) {
    const perFrame = spread(batched.runs.map((r) => r.datagrams / r.sent)).median
    say(
      `Small frames at the unsealed batched rate (${compact(batched.rate.median)} frames/s, ` +
        `${fixed(0)(1 / perFrame)} a datagram)`,
      batched.rate.median * perFrame,
      maxSignedSize(rows),
    )
  }
  const ethernet = minSignedSize(rows)
  const signE = cryptoRow(rows, 'sign', ethernet)
  const verifyE = cryptoRow(rows, 'verify', ethernet)
  if (signE !== undefined && verifyE !== undefined) {
    const mb = (r: CryptoRowResult) => fixed(0)((r.perSecond.median * ethernet) / 1e6)
    lines.push(
      `- Off loopback, in ${int(ethernet)}-B datagrams: one core signs at most ${mb(signE)} MB/s and verifies ` +
        `${mb(verifyE)} MB/s (${compact(signE.perSecond.median)} and ${compact(verifyE.perSecond.median)} datagrams/s).`,
    )
  }
  return lines.length === 0
    ? []
    : ['', 'Per-sender signatures at the rates measured above, unsealed:', '', ...lines]
}

const signedSizes = (rows: readonly CryptoRowResult[]) =>
  rows.filter((r) => r.op === 'sign').map((r) => r.datagramBytes)
const maxSignedSize = (rows: readonly CryptoRowResult[]) => Math.max(...signedSizes(rows))
const minSignedSize = (rows: readonly CryptoRowResult[]) => Math.min(...signedSizes(rows))

/** The sealing section, or '' when nothing sealed was measured. */
export function sealSection(results: BenchResults): string {
  const { small, image, latency, codec } = results
  const rows: string[][] = []
  const sealedSmall = small?.variants.sealed
  if (small !== undefined && sealedSmall?.available === true) {
    const u = small.variants[UNSEALED.small]
    rows.push([
      'small frames, batched (`send`) as fast as possible: delivered frames/s',
      withSpread(u.rate, compact),
      withSpread(sealedSmall.rate, compact),
      times(sealedSmall.vsUnsealed),
      ratioTarget,
    ])
  }
  const sealedImage = image?.variants.sealed
  if (image !== undefined && sealedImage !== undefined) {
    const u = image.variants[UNSEALED.image]
    rows.push([
      '1 MiB images, `publish` unpaced: goodput MB/s',
      withSpread(u.goodput, fixed(0)),
      withSpread(sealedImage.goodput, fixed(0)),
      times(sealedImage.vsUnsealed),
      ratioTarget,
    ])
    rows.push([
      '1 MiB images, `publish` unpaced: images lost',
      withSpread(u.lost, int),
      withSpread(sealedImage.lost, int),
      '',
      '',
    ])
  }
  const sealedLatency = latency?.impls.sealed
  if (latency !== undefined && sealedLatency?.p50VsUnsealed !== undefined) {
    const u = latency.impls[UNSEALED.latency]
    const us = fixed(1)
    rows.push([
      'latency, `send`: round trip p50 µs',
      withSpread(u.p50, us),
      withSpread(sealedLatency.p50, us),
      withSpread(sealedLatency.p50VsUnsealed, signed),
      p50Target,
    ])
    rows.push([
      'latency, `send`: round trip p99 µs',
      withSpread(u.p99, us),
      withSpread(sealedLatency.p99, us),
      times(sealedLatency.p99VsUnsealed),
      '',
    ])
  }
  const crypto = codec?.crypto
  if (rows.length === 0 && crypto === undefined) return ''
  const parts = [
    '## Sealing (encrypt)',
    '',
    'Each sealed row is its unsealed row with a key: publisher and subscriber (for latency, both ends) created with ' +
      "`seal: { keyring, mode: 'encrypt' }` (AES-256-GCM; a fixed test key from `src/samples.ts`), measured in the same " +
      'runs, in the same rotation as the other rows. Sealed ÷ unsealed (and sealed − unsealed) is taken within each run, ' +
      'then the median [min–max] over the runs.',
  ]
  if (rows.length > 0)
    parts.push(
      '',
      table(['measurement', 'unsealed', 'sealed (encrypt)', 'sealed vs unsealed, per run', 'target'], rows, [
        'l',
        'r',
        'r',
        'r',
        'r',
      ]),
    )
  if (codec !== undefined && crypto !== undefined) {
    parts.push('', '### Per datagram: AES-256-GCM and Ed25519', '', ...cryptoTable(codec, crypto))
    parts.push(...signatureBudget(results, crypto))
  }
  return parts.join('\n')
}
