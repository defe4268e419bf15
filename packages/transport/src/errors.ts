/** Every code a {@link TransportError} can carry. */
export const TRANSPORT_ERROR_CODES = [
  'SHOAL_NOT_MULTICAST',
  'SHOAL_SSM_NEEDS_SOURCE',
  'SHOAL_NOT_SSM_GROUP',
  'SHOAL_BAD_ADDRESS',
  'SHOAL_BAD_PORT',
  'SHOAL_BAD_TTL',
  'SHOAL_UNKNOWN_INTERFACE',
  'SHOAL_FAMILY_MISMATCH',
  'SHOAL_BAD_OPTION',
  'SHOAL_BAD_TOPIC',
  'SHOAL_FRAME_TOO_LARGE',
  'SHOAL_BUDGET_OUT_OF_RANGE',
  'SHOAL_TYPE_MISMATCH',
  'SHOAL_CLOSED',
  'SHOAL_SOCKET',
  'SHOAL_BAD_KEY',
] as const
export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[number]

export interface TransportErrorOptions {
  code: TransportErrorCode
  message: string
  cause?: unknown
}

/** The one error type @shoal/transport throws. Check `code`, never the message. */
export class TransportError extends Error {
  readonly code: TransportErrorCode
  override readonly name = 'TransportError'

  constructor({ code, message, cause }: TransportErrorOptions) {
    super(message, cause === undefined ? undefined : { cause })
    this.code = code
  }
}

export function isTransportError(value: unknown, code?: TransportErrorCode): value is TransportError {
  return value instanceof TransportError && (code === undefined || value.code === code)
}

export function transportError(code: TransportErrorCode, message: string, cause?: unknown): TransportError {
  return new TransportError(cause === undefined ? { code, message } : { code, message, cause })
}
