/**
 * One short human line per message, from its `toObject` form, for the terminal view. Known types
 * get their few telling fields; others a compact JSON of their fields but the header.
 */

type Fields = Record<string, unknown>

const DESCRIBERS: Record<string, (m: Fields) => string> = {
  'shoal.v1.Imu': (m) =>
    `accel ${vector(m.linearAcceleration)} m/s²  gyro ${vector(m.angularVelocity)} rad/s`,
  'shoal.v1.NavSatFix': (m) =>
    `lat ${fixed(m.latitude, 6)} lon ${fixed(m.longitude, 6)} alt ${fixed(m.altitude, 1)} m  ${enumName(m.status, 'FIX_STATUS_')}`,
  'shoal.v1.Temperature': (m) => `${fixed(m.celsius, 2)} °C`,
  'shoal.v1.Scalar': (m) =>
    [`${fixed(m.value, 3)}`, m.unit, m.quantity ? `(${m.quantity})` : ''].filter(Boolean).join(' '),
  'shoal.v1.Image': (m) => `${m.width}×${m.height} ${m.encoding || '?'}  ${byteLength(m.data)} bytes`,
  'shoal.v1.Heartbeat': (m) =>
    [enumName(m.state, 'STATE_'), `up ${seconds(m.uptimeNs)}`, m.detail].filter(Boolean).join('  '),
}

export function describeMessage(typeName: string, message: Fields): string {
  const describe = DESCRIBERS[typeName]
  if (describe !== undefined) return describe(message)
  const { header: _header, ...rest } = message
  return JSON.stringify(rest)
}

function fixed(value: unknown, digits: number): string {
  return typeof value === 'number' ? value.toFixed(digits) : String(value ?? '-')
}

function vector(value: unknown): string {
  if (value === null || typeof value !== 'object') return '-'
  const v = value as Fields
  return `(${fixed(v.x, 2)}, ${fixed(v.y, 2)}, ${fixed(v.z, 2)})`
}

function enumName(value: unknown, prefix: string): string {
  return typeof value === 'string' ? value.replace(prefix, '') : String(value ?? '')
}

function seconds(ns: unknown): string {
  const n = Number(ns ?? 0)
  return `${(n / 1e9).toFixed(1)} s`
}

/** A bytes field: `{ bytes: n }` when abbreviated, base64 text with `--full`. */
function byteLength(value: unknown): number {
  if (typeof value === 'string')
    return Math.floor((value.length * 3) / 4) - (value.match(/=+$/)?.[0].length ?? 0)
  if (value !== null && typeof value === 'object' && 'bytes' in value) return Number(value.bytes)
  return 0
}
